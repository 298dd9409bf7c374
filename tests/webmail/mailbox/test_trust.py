from webmail.mailbox.message import ParsedMessage
from webmail.mailbox.trust import authentication_failures, is_mixed_script, sender_warnings


def message(**fields) -> ParsedMessage:
    fields.setdefault("from_address", "alice@example.org")
    return ParsedMessage(**fields)


def test_only_our_own_servers_results_count(settings):
    settings.WEBMAIL_AUTHSERV_ID = "mx.team.test"
    forged = "mx.evil.test; dmarc=fail header.from=example.org"
    ours = "mx.team.test; spf=pass smtp.mailfrom=example.org; dmarc=fail header.from=example.org"
    assert authentication_failures([forged], "mx.team.test") == set()
    assert authentication_failures([ours], "mx.team.test") == {"dmarc"}
    assert sender_warnings(message(authentication_results=[forged])) == []
    assert "DMARC" in sender_warnings(message(authentication_results=[ours]))[0]


def test_without_a_configured_authserv_id_no_header_is_trusted(settings):
    settings.WEBMAIL_AUTHSERV_ID = ""
    assert sender_warnings(message(authentication_results=["x; dmarc=fail"])) == []


def test_spf_failure_warns(settings):
    settings.WEBMAIL_AUTHSERV_ID = "mx.team.test"
    warnings = sender_warnings(message(authentication_results=["mx.team.test; spf=softfail smtp.mailfrom=x"]))
    assert "SPF" in warnings[0]


def test_a_display_name_with_another_address_warns():
    warnings = sender_warnings(message(from_name="ceo@team.test", from_address="attacker@evil.test"))
    assert "ceo@team.test" in warnings[0]
    assert sender_warnings(message(from_name="alice@example.org (Alice)", from_address="alice@example.org")) == []


def test_mixed_script_domains_warn():
    lookalike = "p\u0430ypal.com".encode("idna").decode()  # paypal spelt with a Cyrillic a
    assert lookalike.startswith("xn--")
    assert is_mixed_script(lookalike)
    assert not is_mixed_script("xn--bcher-kva.de")  # bücher: Latin only
    assert not is_mixed_script("example.org")
    assert "mixes alphabets" in sender_warnings(message(from_address=f"billing@{lookalike}"))[0]
