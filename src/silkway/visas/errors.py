"""The visa rules' errors.

DomainError
├── InvalidInput
│   └── InvalidApplication       the application breaks a rule (dates, passport, nationality, states)
├── NotFound
│   ├── ApplicationNotFound      no such application (or a wrong status token: the same answer)
│   └── VisaNotFound             no visa with this number
├── NotPermitted                 (shared) wrong role, wrong state
└── IllegalState
    └── DecisionNotAllowed       the application's status, or a running consultation, forbids the decision
"""

from __future__ import annotations

from silkway.shared.errors import IllegalState, InvalidInput, NotFound


class InvalidApplication(InvalidInput):
    code = "invalid_application"
    title = "The visa application breaks a rule"


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    title = "No such visa application"


class VisaNotFound(NotFound):
    code = "visa_not_found"
    title = "No such visa"


class DecisionNotAllowed(IllegalState):
    code = "decision_not_allowed"
    title = "This decision is not allowed now"
