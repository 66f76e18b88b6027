"""The involvement levels every organisation starts with (it sets the payments).

They follow the four levels of NHS England's policy on reimbursing expenses and
paying involvement payments to patient and public voice partners: expenses are paid
at every level; an involvement payment is for the organisation to set, usually only
at level 4. The migration that makes the table writes these; admins edit them.
"""

from __future__ import annotations

#: (name, description) in order; every payment starts at £0 (expenses only).
STARTING_LEVELS = (
    (
        "Level 1: engagement",
        "Taking part in a public event, answering a survey or giving views "
        "informally. Expenses only.",
    ),
    (
        "Level 2: participation",
        "Taking part in a focus group, workshop or one-off meeting. Expenses only.",
    ),
    (
        "Level 3: involvement",
        "Regular involvement: a reference group or project group, with reading "
        "before meetings. Expenses, and a payment where the organisation sets one.",
    ),
    (
        "Level 4: partnership",
        "A formal role as a lay partner on a board, committee or programme, with "
        "responsibilities agreed in writing. Expenses and an involvement payment.",
    ),
)
