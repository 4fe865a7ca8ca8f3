#!/usr/bin/env bash
# The README's five-minute walk-through, as a script: a transit KZ → UZ → TJ through the API with curl.
# Run it against `make run` (or set BASE). Needs curl and python3 (for reading JSON).
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
api() { curl -sS -H "Content-Type: application/json" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
token() { curl -sS -X POST "$BASE/api/v1/auth/token" -d "username=$1" -d password=demo | json 'd["access_token"]'; }

CARRIER=$(token carrier-kz); KZ=$(token customs-kz); UZ=$(token customs-uz); TJ=$(token customs-tj)

echo "1. carrier-kz lodges the declaration: Almaty → Zhibek Zholy/Gishtkuprik → Oybek/Fotehobod → Dushanbe"
MRN=$(api -X POST "$BASE/api/v1/transits" -H "Authorization: Bearer $CARRIER" -d '{
  "vehicle": {"plate": "123ABC02", "country": "KZ"},
  "itinerary": ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-OYBEK", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"],
  "goods": [{"hs_code": "847130", "description": "Laptops", "packages": 120, "gross_mass_kg": "2400.5",
             "value": {"amount": "180000.00", "currency": "USD"}}],
  "guarantee": {"reference": "GRN-KZ-0001", "amount": "50000.00", "currency": "USD"}}' | json 'd["mrn"]')
echo "   MRN $MRN"

echo "2. customs-kz releases it at Almaty after a physical inspection, with two seals"
api -X POST "$BASE/api/v1/transits/$MRN/release" -H "Authorization: Bearer $KZ" -d '{
  "office": "KZ-ALA-ZHETYSU", "seals": ["KZ1234567", "KZ1234568"],
  "control": {"kind": "physical", "result": "satisfactory"}}' | json 'd["status"]'

present() { # token office seals-json
  api -X POST "$BASE/api/v1/transits/$MRN/presentations" -H "Authorization: Bearer $1" \
    -d "{\"office\": \"$2\", \"seals\": $3}" | json '(d["decision"], d["reasons"])'
}
pass() { api -X POST "$BASE/api/v1/transits/$MRN/passages" -H "Authorization: Bearer $1" -d "{\"office\": \"$2\"}" >/dev/null; }
SEALS='["KZ1234567", "KZ1234568"]'

echo "3. every later office answers green — no second inspection"
echo -n "   KZ-ZHIBEKZHOLY (exit KZ):  "; present "$KZ" KZ-ZHIBEKZHOLY "$SEALS"; pass "$KZ" KZ-ZHIBEKZHOLY
echo -n "   UZ-GISHTKUPRIK (entry UZ): "; present "$UZ" UZ-GISHTKUPRIK "$SEALS"; pass "$UZ" UZ-GISHTKUPRIK
echo -n "   UZ-OYBEK (exit UZ):        "; present "$UZ" UZ-OYBEK "$SEALS"; pass "$UZ" UZ-OYBEK

echo "4. at the Tajik border a seal number differs: inspect, seal_mismatch"
echo -n "   TJ-FOTEHOBOD (entry TJ):   "; present "$TJ" TJ-FOTEHOBOD '["KZ1234567", "KZ9999999"]'
echo "   customs-tj inspects, finds the load in order, and affixes a new seal"
api -X POST "$BASE/api/v1/transits/$MRN/controls" -H "Authorization: Bearer $TJ" -d '{
  "office": "TJ-FOTEHOBOD", "kind": "physical", "result": "satisfactory", "seals": ["TJ0000451"]}' | json 'd["seals"]'
pass "$TJ" TJ-FOTEHOBOD

echo "5. arrival and discharge at Dushanbe (the Tajik control is now the one recognised)"
api -X POST "$BASE/api/v1/transits/$MRN/arrival" -H "Authorization: Bearer $TJ" \
  -d '{"office": "TJ-DUSHANBE-HQ", "seals": ["TJ0000451"]}' | json '(d["decision"], d["reasons"])'
api -X POST "$BASE/api/v1/transits/$MRN/discharge" -H "Authorization: Bearer $TJ" \
  -d '{"office": "TJ-DUSHANBE-HQ"}' | json 'd["status"]'

echo "6. the history"
api "$BASE/api/v1/transits/$MRN" -H "Authorization: Bearer $TJ" \
  | json '"\n".join("   %2d %-17s %-16s %s" % (e["seq"], e["type"], e["office"] or "", e.get("decision", "")) for e in d["events"])'
