"""Equality-monitoring questions and their answers (2021 Census categories).

Every question is optional and offers "Prefer not to say". Answers are stored apart from
the member record and shown to staff only as aggregates, with small counts suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFER_NOT_TO_SAY = "prefer_not_to_say"
#: Counts below this are shown as "fewer than 5" so nobody can be singled out.
SUPPRESS_BELOW = 5


@dataclass(frozen=True)
class Question:
    """One equality-monitoring question with its answers as (value, label) pairs."""

    field: str
    text: str
    answers: tuple[tuple[str, str], ...]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.answers)


def _with_prefer_not(*answers: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (*answers, (PREFER_NOT_TO_SAY, "Prefer not to say"))


QUESTIONS = (
    Question(
        "age_band",
        "What is your age?",
        _with_prefer_not(
            ("under_18", "Under 18"),
            ("18_24", "18 to 24"),
            ("25_34", "25 to 34"),
            ("35_44", "35 to 44"),
            ("45_54", "45 to 54"),
            ("55_64", "55 to 64"),
            ("65_74", "65 to 74"),
            ("75_plus", "75 or over"),
        ),
    ),
    Question(
        "sex",
        "What is your sex?",
        _with_prefer_not(("female", "Female"), ("male", "Male")),
    ),
    Question(
        "gender_identity",
        "Is the gender you identify with the same as your sex registered at birth?",
        _with_prefer_not(("yes", "Yes"), ("no", "No")),
    ),
    Question(
        "ethnicity",
        "What is your ethnic group?",
        _with_prefer_not(
            ("asian_bangladeshi", "Asian or Asian British: Bangladeshi"),
            ("asian_chinese", "Asian or Asian British: Chinese"),
            ("asian_indian", "Asian or Asian British: Indian"),
            ("asian_pakistani", "Asian or Asian British: Pakistani"),
            ("asian_other", "Asian or Asian British: any other Asian background"),
            ("black_african", "Black, Black British, Caribbean or African: African"),
            (
                "black_caribbean",
                "Black, Black British, Caribbean or African: Caribbean",
            ),
            (
                "black_other",
                "Black, Black British, Caribbean or African: any other background",
            ),
            ("mixed_white_asian", "Mixed or multiple ethnic groups: White and Asian"),
            (
                "mixed_white_black_african",
                "Mixed or multiple ethnic groups: White and Black African",
            ),
            (
                "mixed_white_black_caribbean",
                "Mixed or multiple ethnic groups: White and Black Caribbean",
            ),
            ("mixed_other", "Mixed or multiple ethnic groups: any other background"),
            (
                "white_british",
                "White: English, Welsh, Scottish, Northern Irish or British",
            ),
            ("white_irish", "White: Irish"),
            ("white_gypsy_traveller", "White: Gypsy or Irish Traveller"),
            ("white_roma", "White: Roma"),
            ("white_other", "White: any other White background"),
            ("other_arab", "Other ethnic group: Arab"),
            ("other_any", "Other ethnic group: any other ethnic group"),
        ),
    ),
    Question(
        "disability",
        "Do you have a physical or mental health condition or illness lasting, or "
        "expected to last, 12 months or more?",
        _with_prefer_not(("yes", "Yes"), ("no", "No")),
    ),
    Question(
        "carer",
        "Do you look after, or give any help or support to, anyone because of "
        "long-term illness, disability or old age?",
        _with_prefer_not(("yes", "Yes"), ("no", "No")),
    ),
)

QUESTIONS_BY_FIELD = {q.field: q for q in QUESTIONS}


def is_valid_answer(field: str, value: str | None) -> bool:
    """Whether ``value`` is an allowed answer (None means not answered)."""
    return value is None or value in QUESTIONS_BY_FIELD[field].labels
