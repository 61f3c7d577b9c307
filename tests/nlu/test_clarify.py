"""The topics a clarifying question offers (nlu/clarify.py)."""

from nlu.clarify import LIMIT, candidates


def parse(intents, topics=()):
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.5}]
        + [{"name": n, "confidence": c} for n, c in intents],
        "response_selector": {
            "faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics]}
        },
    }


def test_faq_topics_are_scored_by_the_faq_intent_times_their_share():
    # faq 0.6: fee 0.6 * 0.5 = 0.30, locked 0.6 * 0.4 = 0.24; the guide 0.27 between them
    found = candidates(
        parse(
            [("faq", 0.6), ("activation_guide", 0.27)],
            [("faq/fee", 0.5), ("faq/account_locked", 0.4), ("faq/children", 0.1)],
        )
    )
    assert found == ["faq/fee", "activation_guide", "faq/account_locked"]


def test_at_most_the_limit_and_nothing_below_the_floor():
    topics = [(f"faq/t{i}", 0.2) for i in range(5)]
    assert len(candidates(parse([("faq", 1.0)], topics))) == LIMIT
    assert candidates(parse([("faq", 0.4)], topics)) == []  # 0.08 each: noise
    assert candidates(parse([("faq", 1.0)], topics), min_score=0.5) == []


def test_small_talk_and_out_of_scope_are_never_offered_nor_lead_to_an_offer():
    assert candidates(parse([("greet", 0.5), ("faq", 0.4)], [("faq/fee", 1.0)])) == []
    assert candidates(parse([("out_of_scope", 0.45), ("faq", 0.4)], [("faq/fee", 1.0)])) == []
    offered = candidates(parse([("handoff_status", 0.4), ("thank", 0.3), ("wt_next", 0.2)]))
    assert offered == ["handoff_status"]


def test_a_parse_without_ranking_offers_nothing():
    assert candidates({}) == []
    assert candidates({"intent": {"name": "nlu_fallback"}, "intent_ranking": []}) == []
