"""The Commonwealth Visa: one short-stay visa, issued by any participating state, valid at every one's border.

The scheme (`scheme`), the application and its examination (`model`, `handlers`), the machine-readable
zone (`mrz`), name matching against the shared alert list (`names`) and the stay rule (`stay`). Like
`transit`, it knows nothing of databases, HTTP or cryptography: those are behind `ports`.
"""
