"""Which support model fits: a short questionnaire built from the guide's selection factors.

Pure functions. Each answer moves three scores (outsourced, internal, mixed) and adds a reason in
plain words; the highest score wins, ties go to mixed (the guide's most common model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from models_catalog.models import ModelKind

OUT, INT, MIX = ModelKind.OUTSOURCED, ModelKind.INTERNAL, ModelKind.MIXED


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    #: answer value -> (label, {kind: points}, reason)
    answers: dict[str, tuple[str, dict[str, int], str]]


QUESTIONS: list[Question] = [
    Question(
        "size",
        "How large and complex is the solution (users, companies, countries)?",
        {
            "small": (
                "Small: one company, a few hundred users",
                {OUT: 2, MIX: 1},
                "a smaller solution suits partner-led support",
            ),
            "medium": (
                "Medium: several companies or countries",
                {MIX: 2},
                "a mid-size solution is usually best served by a mix",
            ),
            "large": (
                "Large: many business units and countries",
                {INT: 2, MIX: 2},
                "a large solution justifies an internal core team",
            ),
        },
    ),
    Question(
        "critical_processes",
        "How many business-critical processes run on it?",
        {
            "few": ("Few", {OUT: 1}, "few critical processes keep outsourcing risk low"),
            "some": ("Some", {MIX: 1}, "some critical processes call for internal triage"),
            "many": (
                "Many",
                {INT: 1, MIX: 2},
                "many critical processes need people who know the business close by",
            ),
        },
    ),
    Question(
        "internal_skills",
        "What Dynamics 365 skills and head count can you dedicate to support?",
        {
            "none": (
                "Hardly any",
                {OUT: 3, INT: -3},
                "without internal skills or head count a dedicated team is out of reach",
            ),
            "some": (
                "A few people with functional skills",
                {MIX: 3},
                "a few skilled people can run triage and simple issues",
            ),
            "broad": (
                "Broad: functional, technical, servicing and custom-code skills",
                {INT: 3, MIX: 1},
                "broad internal skills make an in-house model possible",
            ),
        },
    ),
    Question(
        "customisation",
        "How much customisation and integration does the solution have?",
        {
            "low": (
                "Little: mostly standard",
                {OUT: 1},
                "a standard solution is easier for a partner to support",
            ),
            "medium": (
                "Some extensions and integrations",
                {MIX: 1},
                "some customisation needs a clear split with the partner",
            ),
            "high": (
                "Heavy customisation or many integrations",
                {OUT: -1, MIX: 2, INT: 1},
                "heavy customisation is hard to support fully outsourced; keep control of change quality inside",
            ),
        },
    ),
    Question(
        "outsourcing_strategy",
        "What is the organisation's outsourcing strategy?",
        {
            "outsource": ("Prefer outsourcing", {OUT: 2, MIX: 1}, "the strategy favours outsourcing"),
            "neutral": ("No preference", {MIX: 1}, "no outsourcing preference"),
            "in_house": (
                "Prefer keeping work in-house",
                {INT: 2, MIX: 1},
                "the strategy favours in-house teams",
            ),
        },
    ),
    Question(
        "existing_agreements",
        "Is there an existing support agreement with the implementation partner?",
        {
            "yes": ("Yes", {OUT: 1, MIX: 1}, "an existing partner agreement can be extended"),
            "no": ("No", {INT: 1}, "no partner agreement to build on"),
        },
    ),
    Question(
        "it_framework",
        "Is there an established IT service framework (ITIL, ISO 20000)?",
        {
            "none": ("No", {OUT: 1}, "without an IT service framework a partner's processes fill the gap"),
            "partial": ("Partly", {MIX: 1}, "a partial framework fits a mixed model"),
            "mature": (
                "Yes, enterprise-wide",
                {INT: 1, MIX: 1},
                "a mature framework can absorb Dynamics 365 support",
            ),
        },
    ),
    Question(
        "business_units",
        "Several business units or companies, rolled out incrementally?",
        {
            "yes": (
                "Yes",
                {},
                "several business units rolled out incrementally: consider a centre of excellence",
            ),
            "no": ("No", {}, ""),
        },
    ),
]

QUESTIONS_BY_KEY = {question.key: question for question in QUESTIONS}


@dataclass(frozen=True)
class Recommendation:
    kind: str
    scores: dict[str, int]
    reasons: list[str]
    centre_of_excellence: bool
    unanswered: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ModelKind(self.kind).label


def validate_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """Field name -> message for every unknown question or answer (empty when all are valid)."""
    errors = {}
    for key, value in answers.items():
        question = QUESTIONS_BY_KEY.get(key)
        if question is None:
            errors[key] = "Unknown question."
        elif value not in question.answers:
            errors[key] = f"Choose one of: {', '.join(question.answers)}."
    return errors


def recommend(answers: Mapping[str, str]) -> Recommendation:
    """The model that fits the answers best, with the reasons that decided it."""
    scores = {OUT: 0, INT: 0, MIX: 0}
    supporting: dict[str, list[str]] = {OUT: [], INT: [], MIX: []}
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value not in question.answers:
            continue
        _label, points, reason = question.answers[value]
        for kind, delta in points.items():
            scores[kind] += delta
            if delta > 0 and reason:
                supporting[kind].append(reason)
    best = max(scores.values())
    kind = MIX if scores[MIX] == best else max(scores, key=lambda k: (scores[k], k == INT))
    coe = answers.get("business_units") == "yes" and kind != OUT
    reasons = [f"{reason[0].upper()}{reason[1:]}." for reason in supporting[kind]]
    if coe:
        reasons.append(
            "Several business units rolled out incrementally: a centre of excellence pools scarce skills."
        )
    unanswered = [question.key for question in QUESTIONS if question.key not in answers]
    return Recommendation(
        kind=str(kind),
        scores={str(k): v for k, v in scores.items()},
        reasons=reasons,
        centre_of_excellence=coe,
        unanswered=unanswered,
    )
