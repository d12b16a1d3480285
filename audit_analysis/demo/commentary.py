"""The demo's QA-group commentary for 2018-19 (``commentary.md``): invented, in the manner
of the reference report's sections, every figure a reference to the data, never typed.
It is a draft, so the demo's pages say DRAFT. Synthetic like the rest of the demo: no
real partnership, child or practitioner is described."""

from __future__ import annotations

__all__ = ["COMMENTARY"]

COMMENTARY = {
    "2018-19": """---
status: draft
---

<!-- A synthetic commentary for the demo data. The QA group's own would replace it. -->

## Summary

This year {{ agencies }} agencies audited {{ cases }} children's cases between them, drawn
from the partnership's three priorities: early help, neglect and exploitation. Overall
{{ share overall }} of ratings met or exceeded the standard. Against last year that is
{{ change overall vs 2017-18 }}; against 2016-17 it is {{ change overall vs 2016-17 }}.

The picture is one of generally sound single-agency and multi-agency practice, with
steady gains since the audit began. Three things hold it back: plans that do not say
who will do what by when, a dispute resolution procedure that practitioners know of but
rarely use, and agencies that still rate without giving evidence.

## Action taken

The round table could not be reassured that two children in the deep dive were safe.
Both live in the same family. Their cases were raised with team managers the same week
for an immediate multi-agency review, and a set of assurance questions was sent to every
manager holding a complex exploitation case.

## What worked well

- Practitioners know the threshold guidance and where to find it, and say that feedback
  from the front door on their referrals helps them apply it.
- Consent is recorded, and in most cases sought where it should be and explained to
  families.
- Supervision takes place at least as often as the partnership expects, and
  practitioners value it as a place to reflect and to be challenged.
- The commitment of agency representatives, and a stable audit group, kept the cycle to
  its timetable.

## What needs to improve

- **Plans.** Too many plans are not specific about actions, owners and timescales, so
  reviews cannot tell whether they are working: {{ share smart-plans }} of ratings met
  the SMART-plans standard.
- **Disputes.** Practitioners rarely use the dispute resolution procedure even where a
  partner failed to respond: {{ share dispute-resolved-in-line }} of ratings met that
  standard.
- **Evidence.** Some agencies rate a standard as met without saying why; a bare "met"
  cannot be checked, and agencies do not always agree on the same case.

## KLOE thresholds

Thresholds and referrals remain the strongest line of enquiry at
{{ share thresholds }}. Practitioners report that the new referral form helps them make
better referrals. The audit found no out-of-hours referral to children's social care, so
that route could not be tested. With the new data protection law, agencies should check
that they seek consent only where it is required.

## KLOE information-sharing

Relevant partners are usually identified in good time and records of child protection
and child in need meetings are kept and shared: {{ share information-sharing }}, which is
{{ change information-sharing vs 2017-18 }} on last year. Early help and youth offending
meetings lack a shared procedure, and minutes do not always reach GPs who could not
attend.

## KLOE voice-of-the-child

Practitioners who work directly with children gather their wishes and feelings
creatively; adult-focused services find this harder to evidence
({{ share voice-of-the-child }}). In exploitation cases children often did not engage,
or said they wanted something other than what professionals judged safe for them: a
dilemma the partnership has yet to resolve.

## KLOE interventions

Signs of Safety and the Graded Care Profile help where they are used well
({{ share interventions }}). Where plans were not SMART, reviews were weaker because no
one could say who owned each action. Disguised compliance is recognised, though it can
take time. Help for children entrenched in exploitation was often of high quality yet
did not make them safer.

## KLOE supervision

Supervision appears to happen at least every three months and keeps the child at the
centre of decisions ({{ share supervision }}). Agencies use different models of
supervision and could learn from one another; group case learning meetings may help
practitioners reflect on a case together.

## KLOE dispute-resolution

Most practitioners know the procedure and where to find it, but disagreements are
settled informally and few are escalated: {{ share dispute-resolution }}, the weakest
line of enquiry this year. One agency found that a partner should have used the
procedure when it did not respond to a request.

## Deep dive

The round table looked in depth at the exploitation cases flagged for it. Risk of
sexual exploitation is well understood; risk of criminal exploitation is more often
missed. Families involved with many agencies face many meetings, plans and visits, and
some disengage. Where help worked, a consistent worker who knew the child well made the
difference.

## Family feedback

This was the first year the audit asked families for their views. Few replied. Next year
the lead worker will be asked early how best to approach each family.

## Learning event

Agency representatives presented their findings to practitioners, and the table-top
exercise used the Signs of Safety three columns. Practitioners asked for shared
procedures for early help meetings and for examples of disputes taken through the
procedure.

## Conclusions

The audit shows generally positive practice and continued improvement against most
standards. The Executive Group is asked to agree the recommendations below, to name a
lead for each, and to receive the assurance questions' results at its next meeting.
""",
}
