"""The static, seeded world of the demo backend.

Everything here is a pure function of ``(seed, anchor, size)``: projects, inboxes, playbooks
(bases, versions, active-version history, settings), tags, skills, knowledge bases and their
items, API tools, toolkits, the support intents with their story templates, conversion metric
definitions and eval cases. ``generate.py`` turns this world into SQLite rows and
``content.py`` uses it to build a conversation's messages (stored by ``generate.py``).

Hostile/awkward text lives in a small, deterministic share of conversations (see
``is_hostile``, ``HOSTILE_SAMPLES`` and ``FORMULA_SAMPLES``); tests find them with
``api.demo.generate.hostile_conversation_ids(conn)``, never through a tag (real data has none).
"""
from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from api.demo.anchor import anchor_end

DAYS = 120
DAY = 86400

# --------------------------------------------------------------------------------------------
# small helpers


def new_id(rng: random.Random) -> str:
    """A random (but seeded) UUID4 string: ``str(uuid.UUID(int=bits, version=4))`` without
    the UUID object (cheaper: the generator makes one per tool call)."""
    bits = (rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# UUID(version=4): variant bits 10 (RFC 4122) and version nibble 4
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def dumps(obj: Any) -> str:
    """Compact JSON, non-ASCII kept (what the stored JSON texts use)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def iso(ts: int | float) -> str:
    """Epoch seconds -> ISO 8601 UTC with a Z suffix (the API's format)."""
    day, sec = divmod(int(ts), DAY)
    hour, rest = divmod(sec, 3600)
    return f"{_day_prefix(day)}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def day_str(ts: int | float) -> str:
    return _day_prefix(int(ts) // DAY)


def anchor_bounds(anchor: str) -> tuple[int, int]:
    """(start of the 120-day window, last second of the data) in epoch seconds, for a
    canonical anchor (``api.demo.resolve_anchor``): the data ends at the end of the anchor
    day, or at the hour an anchor ``YYYY-MM-DDTHH`` names (the demo's "now")."""
    end = int(anchor_end(anchor).timestamp()) - 1
    d = dt.date.fromisoformat(anchor[:10])
    midnight = int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())
    return midnight + DAY - DAYS * DAY, end


def weighted(rng: random.Random,
             table: dict[str, float] | dict[str, int] | tuple[Any, ...]) -> str:
    """Pick a key of ``{key: weight}`` (or of a tuple of (key, weight))."""
    items = table.items() if isinstance(table, dict) else table
    total = sum(w for _, w in items)
    x = rng.random() * total
    for key, w in items:
        x -= w
        if x < 0:
            return key
    return key  # float rounding: the last one


# --------------------------------------------------------------------------------------------
# static catalogue: tags, skills, tools, toolkits, models

TAGS = (
    "billing", "refund", "shipping", "account", "bug", "pricing", "cancellation", "password",
    "vip", "urgent", "enterprise", "returning-customer", "spanish", "mobile-app", "promo",
    "order-status",
)

SKILLS = {
    "refund-process": "Walk the customer through refund eligibility and start the refund.",
    "order-tracking": "Look up an order and explain where the parcel is.",
    "password-reset": "Verify identity and send a password reset link.",
    "cancellation-flow": "Offer retention options, then cancel the subscription if asked.",
    "billing-dispute": "Collect invoice details for a disputed charge.",
    "plan-upgrade": "Compare plans and help the customer upgrade.",
    "bug-triage": "Collect reproduction steps, device and version for a bug report.",
    "account-update": "Change email, name or address on the account after verification.",
    "shipping-delay": "Apologise for delays and offer a shipping credit when eligible.",
}

SKILL_ERRORS = (
    "Skill content exceeded the context budget (4096 tokens)",
    "Skill not active in this playbook version",
    "Timeout while loading skill definition",
)

MODELS = {  # model -> (base latency ms, $ per 1M input tokens, $ per 1M output tokens)
    "gpt-4o-mini": (1400, 0.15, 0.60),
    "gpt-4.1-mini": (1700, 0.40, 1.60),
    "claude-haiku-4.5": (1200, 1.00, 5.00),
    "gpt-4o": (2300, 2.50, 10.00),
}


@dataclass(frozen=True)
class ApiToolDef:
    key: str
    name: str
    method: str
    url: str
    description: str
    params: tuple[tuple[str, str, str], ...]  # (name, type, description)
    errors: tuple[str, ...]


API_TOOLS = (
    ApiToolDef("lookup_order", "lookup_order", "GET",
               "https://api.shop-demo.example/v2/orders/{order_id}",
               "Fetch an order with its items, payment and fulfilment status.",
               (("order_id", "string", "Order number, e.g. ORD-12345"),),
               ("HTTP 404: order not found", "HTTP 504: upstream timeout")),
    ApiToolDef("process_refund", "process_refund", "POST",
               "https://api.shop-demo.example/v2/refunds",
               "Create a refund for an order (full or partial).",
               (("order_id", "string", "Order number"), ("amount", "number", "Amount to refund"),
                ("reason", "string", "Refund reason code")),
               ("HTTP 409: refund already issued", "HTTP 422: amount exceeds order total")),
    ApiToolDef("get_subscription", "get_subscription", "GET",
               "https://billing.demo.example/v1/subscriptions",
               "Look up the customer's subscription, plan and next invoice.",
               (("email", "string", "Customer email"),),
               ("HTTP 500: billing service unavailable",)),
    ApiToolDef("send_password_reset", "send_password_reset", "POST",
               "https://auth.demo.example/v1/password-resets",
               "Send a password reset link to the account email.",
               (("email", "string", "Account email"),),
               ("HTTP 429: too many reset requests",)),
    ApiToolDef("track_shipment", "track_shipment", "GET",
               "https://tracking.demo.example/shipments/{tracking_number}",
               "Carrier tracking events for a shipment.",
               (("tracking_number", "string", "Carrier tracking number"),),
               ("HTTP 502: carrier API error", "HTTP 404: tracking number unknown")),
)
OTHER_API_TOOLS = (
    ApiToolDef("booking_lookup", "booking_lookup", "GET",
               "https://api.travel-demo.example/bookings/{booking_ref}",
               "Fetch a travel booking.", (("booking_ref", "string", "Booking reference"),),
               ("HTTP 404: booking not found",)),
)

TOOLKITS = {
    "SLACK": {
        "name": "Slack", "auth_type": "api_key", "description": "Send messages to Slack channels",
        "actions": [{
            "slug": "SLACK_SEND_MESSAGE", "description": "Send a message to a Slack channel",
            "parameters": [
                {"name": "channel", "type": "string", "required": True,
                 "description": "Slack channel ID (pre-configured from channel list)"},
                {"name": "message", "type": "string", "required": True,
                 "description": "Message text to send"}]}],
    },
    "INTERCOM_TICKETS": {
        "name": "Intercom Tickets", "auth_type": "api_key",
        "description": "Create Intercom support tickets",
        "actions": [{
            "slug": "INTERCOM_TICKETS_CREATE_TICKET",
            "description": "Create a new Intercom support ticket",
            "parameters": [
                {"name": "ticket_type_id", "type": "string", "required": True,
                 "description": "Intercom ticket type ID (pre-configured from type list)",
                 "options": [{"id": "67", "name": "Refund request"},
                             {"id": "68", "name": "Bug report"},
                             {"id": "71", "name": "Billing dispute"}]},
                {"name": "contact_email", "type": "string", "required": True,
                 "description": "Email of the contact to associate the ticket with"},
                {"name": "title", "type": "string", "required": True, "description": "Ticket title"},
                {"name": "description", "type": "string", "required": False,
                 "description": "Ticket body/description"}]}],
    },
}
SLACK_CHANNELS = ("C04SUPPORT", "C05ESCALATIONS", "C06VIP")

# --------------------------------------------------------------------------------------------
# intents: the support stories


@dataclass(frozen=True)
class Story:
    """One way an intent comes up: every text of the conversation follows it."""

    phrase: str  # user_intent, and what the assistant searches the knowledge base for
    subject: str  # for summaries and reasons: "a refund for the damaged item in ORD-1"
    openers: tuple[str, ...]  # the customer's first message (Spanish ones for es-* locales)
    followups: tuple[str, ...]  # later customer messages, in order
    answers: tuple[str, ...]  # assistant answers, in order
    resolved: tuple[str, ...]  # the last answer when the assistant resolved it
    tags: tuple[str, ...] | None = None  # instead of the intent's tags


@dataclass(frozen=True)
class Intent:
    key: str
    weight: float
    bases: tuple[tuple[str, float], ...]  # playbook base keys that handle it
    tags: tuple[str, ...]
    skills: tuple[str, ...]
    api_tools: tuple[str, ...]
    ticket_type: str | None  # INTERCOM ticket type when the bot files a ticket
    handoff_p: float
    handoff_reasons: tuple[tuple[str, float], ...]
    stories: tuple[Story, ...]

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(s.phrase for s in self.stories)


INTENTS = (
    Intent(
        "refund", 14, (("support", 0.6), ("billing", 0.4)),
        ("refund",), ("refund-process",), ("lookup_order", "process_refund"), "67", 0.34,
        (("policy", 4), ("user_request", 2), ("frustration", 3), ("bot_limitation", 1)),
        (
            Story(
                "refund for a damaged item", "a refund for the damaged item in order {order}",
                ("Hi, I want a refund for order {order}, the item arrived broken.",
                 "Hola, quiero el reembolso del pedido {order}, llegó dañado."),
                ("It's order {order}, placed on the {day}th.",
                 "I already sent photos of the damage.", "How long does the refund take?"),
                ("I found order {order}. It was delivered 5 days ago, so it is inside the "
                 "30-day window.",
                 "Damaged items are refunded without a return; the money goes back to your "
                 "card within 5-7 business days."),
                ("Your refund of {amount} for {order} is on its way; you will see it in 5-7 "
                 "business days.",
                 "Done! I started the refund for the damaged item in {order}. You'll get a "
                 "confirmation email shortly."),
            ),
            Story(
                "refund not received after a return", "the missing refund for returned order {order}",
                ("I was charged for {order} but I returned it two weeks ago. Where is my money?",),
                ("I dropped it off at the post office on the {day}th.",
                 "Can you refund it to my card instead of store credit?",
                 "How long does the refund take?"),
                ("I can see the return of {order} arrived at our warehouse on the {day}th.",
                 "Refunds go back to the original payment method within 5-7 business days."),
                ("Your refund of {amount} for {order} was issued; it will show on your card "
                 "within 5-7 business days.",),
            ),
            Story(
                "return an item that doesn't fit", "returning order {order} for a refund",
                ("Can I get my money back? The jacket from {order} doesn't fit.",),
                ("It's order {order}, placed on the {day}th.",
                 "Do I have to pay for the return shipping?",
                 "Can you refund it to my card instead of store credit?"),
                ("I found order {order}; it is inside the 30-day return window.",
                 "Returns are free: I can email you a prepaid return label.",
                 "The refund of {amount} goes back to your card once the return arrives."),
                ("I emailed you a prepaid return label for {order}; the refund of {amount} "
                 "follows once it arrives.",),
            ),
        ),
    ),
    Intent(
        "billing", 11, (("billing", 0.85), ("support", 0.15)),
        ("billing",), ("billing-dispute",), ("get_subscription",), "71", 0.28,
        (("policy", 3), ("user_request", 3), ("frustration", 2), ("bot_limitation", 2)),
        (
            Story(
                "double charge on card", "a double charge of {amount} on the {plan} plan",
                ("Why was I charged {amount} twice this month?",
                 "Me cobraron dos veces la suscripción, ¿me ayudan?"),
                ("The email on the account is {email}.", "It was on my Visa ending 4242.",
                 "Can you just cancel the second charge?"),
                ("I can see your {plan} subscription renewed on the 3rd for {amount}.",
                 "The second charge is a pre-authorisation; it drops off within 3 business "
                 "days."),
                ("The duplicate authorisation will disappear within 3 business days. "
                 "Anything else?",),
            ),
            Story(
                "question about a charge", "an unrecognised charge of {amount}",
                ("My invoice shows a charge I don't recognise.",),
                ("The email on the account is {email}.", "It says {amount}, on the {day}th.",
                 "I never asked for that."),
                ("That {amount} is the prorated charge for the seats added to your {plan} plan "
                 "on the {day}th.",
                 "You can see each line of the charge in the billing portal under Invoices."),
                ("I emailed you the breakdown of the {amount} charge; it is also in the "
                 "billing portal.",),
            ),
            Story(
                "invoice with a VAT number", "adding a VAT number to the invoices",
                ("I need an invoice with my company VAT number.",),
                ("The email on the account is {email}.", "Our VAT number is ES-B12345678.",
                 "Can you also fix last month's invoice?"),
                ("I can add the VAT number to your billing profile; which number should "
                 "appear?",
                 "I added the VAT number to your billing profile; future invoices will show "
                 "it."),
                ("Your updated invoice with the VAT number is in the billing portal now.",),
            ),
        ),
    ),
    Intent(
        "shipping", 13, (("support", 1.0),),
        ("shipping", "order-status"), ("order-tracking", "shipping-delay"),
        ("lookup_order", "track_shipment"), None, 0.18,
        (("policy", 1), ("user_request", 3), ("frustration", 4), ("bot_limitation", 2)),
        (
            Story(
                "where is my order", "the late delivery of {order}",
                ("Where is my order {order}? It was supposed to arrive Monday.",),
                ("The tracking number is {tracking}.", "This is the second time it's late.",
                 "Will it arrive before the weekend?"),
                ("Your parcel {tracking} is at the regional hub and is scheduled for delivery "
                 "tomorrow.",
                 "The carrier reported a weather delay; the new estimate is 2 business days."),
                ("Your order {order} is out for delivery today. I added a $5 shipping credit.",
                 "You can follow the parcel here: https://track.demo.example/{tracking}"),
            ),
            Story(
                "delayed delivery", "the tracking of {order}, not updated for days",
                ("Tracking hasn't updated in 4 days for {order}.",),
                ("The tracking number is {tracking}.", "Is it lost?"),
                ("The carrier reported a weather delay for {tracking}; the new estimate is 2 "
                 "business days.",
                 "It is not lost: the last scan was at the regional hub."),
                ("Your order {order} is out for delivery today. I added a $5 shipping credit.",
                 "You can follow the parcel here: https://track.demo.example/{tracking}"),
            ),
            Story(
                "change shipping address", "changing the delivery address of {order}",
                ("Can I change the delivery address for {order}?",),
                ("The new address is 12 Rue Cler, Paris.",
                 "I'm not home on Friday, can they leave it with a neighbour?"),
                ("I can update the address while {order} has not left the warehouse.",
                 "I updated the delivery instructions on {order}."),
                ("Done: {order} goes to the new address; you'll get an updated tracking "
                 "email.",),
            ),
        ),
    ),
    Intent(
        "password_reset", 10, (("support", 1.0),),
        ("account", "password"), ("password-reset",), ("send_password_reset",), None, 0.08,
        (("policy", 2), ("user_request", 3), ("frustration", 2), ("bot_limitation", 3)),
        (
            Story(
                "reset password", "a password reset for {email}",
                ("I can't log in, I forgot my password.", "The reset email never arrives."),
                ("My email is {email}.", "I checked spam already.", "Still nothing..."),
                ("I sent a reset link to {email}. It is valid for 30 minutes.",
                 "Reset emails can take a few minutes; please check the spam folder too."),
                ("Great, you're back in! The link expires in 30 minutes if you need it again.",
                 "The reset link is on its way to {email}."),
            ),
            Story(
                "locked out of account", "unlocking the account of {email}",
                ("My account is locked after too many attempts.",),
                ("My email is {email}.", "How long do I have to wait?"),
                ("Accounts unlock automatically 15 minutes after the last failed attempt.",
                 "I can also send a reset link to {email} if you don't remember the password."),
                ("Your account is unlocked; you can log in again now.",),
            ),
            Story(
                "two-factor code not arriving", "two-factor codes not arriving for {email}",
                ("2FA code not arriving to my phone",),
                ("My email is {email}.", "I changed my phone number last month."),
                ("I sent a one-time backup code to {email}.",
                 "You can switch two-factor to an authenticator app under Settings → "
                 "Security."),
                ("The backup code is in your inbox at {email}; use it once, then update your "
                 "phone number in Settings.",),
            ),
        ),
    ),
    Intent(
        "cancellation", 8, (("billing", 0.7), ("support", 0.3)),
        ("cancellation",), ("cancellation-flow",), ("get_subscription",), None, 0.3,
        (("policy", 2), ("user_request", 5), ("frustration", 2), ("bot_limitation", 1)),
        (
            Story(
                "cancel subscription", "cancelling the {plan} subscription",
                ("I want to cancel my subscription.",
                 "Please cancel my {plan} plan, it's too expensive."),
                ("Just cancel it please.", "What happens to my data?"),
                ("Before you go: I can offer 2 months at 50% off the {plan} plan.",
                 "You keep access until the end of the billing period; your data stays for 90 "
                 "days."),
                ("Your {plan} subscription is cancelled and won't renew. You keep access until "
                 "the 28th.",),
            ),
            Story(
                "stop auto-renewal", "turning off the auto-renewal of the {plan} plan",
                ("How do I stop the auto-renewal?",),
                ("I just don't want it to renew next month.", "What happens to my data?"),
                ("I can turn off auto-renewal; the {plan} plan stays active until the end of "
                 "the period.",
                 "Your data stays for 90 days after the plan ends."),
                ("Auto-renewal is off: your {plan} plan ends with this period and won't be "
                 "charged again.",),
            ),
            Story(
                "pause subscription", "pausing the {plan} subscription",
                ("Can I pause my subscription for a couple of months?",),
                ("Two months would be perfect.", "Will I be charged meanwhile?"),
                ("Yes, you can pause the {plan} plan for up to 3 months.",
                 "Nothing is charged while the subscription is paused."),
                ("I paused your subscription for 2 months. Nothing will be charged "
                 "meanwhile.",),
            ),
        ),
    ),
    Intent(
        "pricing", 9, (("sales", 0.9), ("support", 0.1)),
        ("pricing",), ("plan-upgrade",), (), None, 0.16,
        (("policy", 1), ("user_request", 6), ("frustration", 1), ("bot_limitation", 2)),
        (
            Story(
                "pricing for enterprise plan", "Business plan pricing for 40 seats",
                ("How much is the Business plan for 40 seats?",),
                ("We'd need SSO too.", "And if we pay yearly?"),
                ("Business is $24 per seat per month billed yearly; SSO is included.",
                 "Annual billing saves 20% compared with monthly."),
                ("I booked a call with our sales team for Thursday 15:00.",
                 "Here is the comparison page: https://demo.example/pricing. Anything else?"),
            ),
            Story(
                "compare plans", "the difference between the Pro and Business plans",
                ("What's the difference between Pro and Business?",),
                ("Is SSO in Pro?", "And if we pay yearly?"),
                ("Pro covers up to 10 seats; Business adds SSO, audit logs and priority "
                 "support.",
                 "Annual billing saves 20% compared with monthly."),
                ("Here is the comparison page: https://demo.example/pricing. Anything else?",),
            ),
            Story(
                "discount for nonprofits", "a nonprofit discount",
                ("Do you have a discount for nonprofits?",),
                ("We're a registered charity.", "Does it apply to the Business plan?"),
                ("Registered nonprofits get 30% off any plan.",
                 "Send us your registration certificate and the discount applies to your next "
                 "invoice."),
                ("I started your nonprofit application; the 30% discount applies once the "
                 "certificate is checked.",),
            ),
            Story(
                "annual billing", "paying for the {plan} plan yearly",
                ("Is there an annual plan?",),
                ("How much would we save?", "Can I switch mid-cycle?"),
                ("Annual billing saves 20% compared with monthly.",
                 "You can switch at any time; the rest of this month is credited."),
                ("You can switch to annual billing under Settings → Billing; it saves 20%.",),
            ),
        ),
    ),
    Intent(
        "plan_upgrade", 6, (("sales", 0.8), ("billing", 0.2)),
        ("pricing",), ("plan-upgrade",), ("get_subscription",), None, 0.1,
        (("policy", 2), ("user_request", 5), ("frustration", 1), ("bot_limitation", 2)),
        (
            Story(
                "upgrade to a higher plan", "upgrading to the {plan} plan",
                ("I want to upgrade to {plan}.",),
                ("Will I be charged the full month?", "Ok do it."),
                ("Upgrades are prorated: you pay only for the rest of this cycle.",),
                ("You're on {plan} now. The prorated charge is {amount}.",),
            ),
            Story(
                "add seats", "adding 5 seats to the {plan} plan",
                ("How do I add 5 more seats?",),
                ("Will I be charged the full month?", "Ok do it."),
                ("New seats are prorated: you pay only for the rest of this cycle.",),
                ("I added 5 seats to your {plan} plan. The prorated charge is {amount}.",),
            ),
        ),
    ),
    Intent(
        "account_update", 7, (("support", 1.0),),
        ("account",), ("account-update",), (), None, 0.2,
        (("policy", 5), ("user_request", 2), ("frustration", 1), ("bot_limitation", 2)),
        (
            Story(
                "change account email", "changing the account email to {email}",
                ("I need to change the email on my account to {email}.",),
                ("Yes I can confirm the code.", "Why do you need that?"),
                ("I sent a verification code to your current email.",
                 "The code proves the request comes from the account owner."),
                ("Your account email is now {email}.",),
            ),
            Story(
                "delete account", "deleting the account",
                ("How do I delete my account?",),
                ("Yes, I'm sure.", "What happens to my orders?"),
                ("I sent a confirmation link to your account email; deletion starts once you "
                 "click it.",
                 "Your order history is removed 30 days after the deletion."),
                ("Your account deletion is confirmed; everything is removed within 30 days.",),
            ),
            Story(
                "update shipping address", "updating the address on the account",
                ("Please update my address.",),
                ("It's 12 Rue Cler, Paris.", "Yes I can confirm the code."),
                ("I sent a verification code to your current email.",),
                ("Your address is updated for future orders.",),
            ),
        ),
    ),
    Intent(
        "bug_report", 8, (("support", 1.0),),
        ("bug", "mobile-app"), ("bug-triage",), (), "68", 0.38,
        (("policy", 1), ("user_request", 2), ("frustration", 3), ("bot_limitation", 4)),
        (
            Story(
                "app crashes on login", "the app crashing at start",
                ("The app crashes every time I open it.", "la app se cierra sola 😡"),
                ("iPhone 13, iOS 17.5, app version 4.2.1.", "I already reinstalled it.",
                 "It worked yesterday."),
                ("Thanks, I logged the details: device, version and steps.",
                 "Clearing the app cache usually fixes this; could you try it?"),
                ("I filed ticket #{ticket} with our engineers; we'll email you when it's "
                 "fixed.",
                 "Clearing the app cache fixed it for most users; I'm glad it works now."),
            ),
            Story(
                "checkout button not working", "the checkout button on Safari",
                ("Checkout button does nothing on Safari.",),
                ("Safari 17 on a Mac.", "It worked yesterday."),
                ("Our team is aware of a checkout issue on Safari 17; a fix ships this week.",
                 "Meanwhile, checkout works in Chrome or Firefox."),
                ("I filed ticket #{ticket} with our engineers; we'll email you when the Safari "
                 "fix ships.",),
                ("bug",),
            ),
            Story(
                "error when saving the profile", "an 'Error 500' when saving the profile",
                ("I get 'Error 500' when saving my profile.",),
                ("It happens on the website.", "I tried twice."),
                ("Thanks, I logged the details: page, time and the error.",
                 "It was a temporary server error; please try again now."),
                ("I filed ticket #{ticket} with our engineers; we'll email you when it's "
                 "fixed.",),
                ("bug",),
            ),
        ),
    ),
    Intent(
        "product_question", 9, (("support", 0.5), ("sales", 0.5)),
        (), (), (), None, 0.07,
        (("policy", 1), ("user_request", 4), ("frustration", 1), ("bot_limitation", 4)),
        (
            Story(
                "integration question", "the Shopify integration",
                ("Does it integrate with Shopify?", "hello"),
                ("Does it sync orders?", "And with WooCommerce?"),
                ("Yes, the Shopify app syncs orders every 5 minutes.",
                 "WooCommerce works through our Zapier app."),
                ("Happy to help! Anything else?",),
            ),
            Story(
                "product availability", "when the blue model is back in stock",
                ("Is the blue model back in stock?",),
                ("Can I get an email when it is?", "Thanks!"),
                ("The blue model is back on the 20th.",
                 "I turned on a stock notification for your email."),
                ("Glad that helped.",),
            ),
            Story(
                "how a feature works", "exporting data to CSV",
                ("Can I export my data to CSV?",),
                ("Does it include past orders?", "Thanks!"),
                ("You can export any report to CSV from Settings → Data.",
                 "Yes, the export covers every order since the account was opened."),
                ("Happy to help! Anything else?",),
            ),
        ),
    ),
)
INTENT_BY_KEY = {i.key: i for i in INTENTS}

OTHER_INTENTS = ("booking_change", "baggage", "refund")  # the small second project

# --------------------------------------------------------------------------------------------
# reasons per signal label (short on purpose: every row carries one)

# Each text holds for every conversation its label can go with (plan._signals keeps the
# combinations apart that no text could: a negative sentiment never "improved", ...).
SENTIMENT_REASONS = {
    "positive": ("Friendly, patient tone throughout.",
                 "Polite and appreciative with the assistant."),
    "neutral": ("Matter-of-fact exchange overall.",
                "Short, factual questions and no complaint."),
    "negative": ("Customer expressed frustration about {subject}.",
                 "Annoyed tone about {subject}."),
}
RESOURCES_REASONS = {
    "relevant": "Retrieved content answered the question directly.",
    "partial": "Sources covered part of the question; details were missing.",
    "irrelevant": "Search results did not match what the customer asked.",
}
SHIFT_REASONS = {
    "improved": "Started tense, calmer by the end.",
    "stable": "Tone stayed the same from start to end.",
    "degraded": "Customer grew more frustrated as the conversation went on.",
}
DEFLECTION_REASONS = {
    "resolved": "The assistant fully resolved {subject}.",
    "partial": "Gave general guidance on {subject} but not a complete answer.",
    "actioned": "The assistant took an action (ticket or tool) for {subject}.",
    "no_response": "The customer stopped replying before confirming.",
}
HANDOFF_DETAILS = {
    "policy": "Policy requires a human for {subject}.",
    "user_request": "Customer explicitly asked for a human agent.",
    "frustration": "Escalated after repeated frustration about {subject}.",
    "bot_limitation": "The assistant could not handle {subject} with its tools.",
}
RISK_REASONS = {
    "low": "Unlikely to write back about this.",
    "medium": "Depends on a pending step; may write back.",
    "high": "Likely to contact support again about this.",
}
HANDOFF_LINES = (
    "I'm connecting you with a teammate who can help with this.",
    "Let me hand this over to our support team; someone will reply shortly.",
)
WINBACK_LINES = (
    "Hi again! Just checking in: did that solve your issue?",
    "Are you still there? I'm happy to help if you have more questions.",
)
# the customer's reply to a winback, by how the assistant had left it (plan._deflection)
WINBACK_REPLIES = {"resolved": "Yes all good now, thanks!", "partial": "Not yet, still waiting.",
                   "no_response": "ok"}
# the last message of a customer whose conversation was scored negative (English, Spanish)
ANNOYED = ("This is taking way too long.", "Esto está tardando demasiado.")
# the customer's last message before a handoff for these reasons (English, Spanish)
HANDOFF_ASKS = {
    "user_request": ("Can I talk to a person, please?", "¿Puedo hablar con una persona?"),
    "frustration": ("I've already explained this. I'm really annoyed now.",
                    "Ya lo expliqué, estoy harto."),
}
ERROR_LINES = ("Sorry, something went wrong on my side. Please try again in a moment.",)
REMARKS = {  # true of any conversation rated so (ratings follow the sentiment, plan._rating)
    5: ("Super fast, thank you!", "Quick and clear.", "Great bot, very clear."),
    4: ("Helpful, but took a few tries.", "Good answer."),
    3: ("It was ok.", "Answer was generic."),
    2: ("Didn't really answer my question.", "Had to explain twice."),
    1: ("Useless, I want a human.", "Terrible, nothing got solved.", "Bot kept repeating itself."),
}

FIRST_NAMES = ("Ana", "Ben", "Chloé", "Diego", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas",
               "Kemi", "Liam", "Mia", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Yuki")
LAST_INITIALS = "ABCDEFGHJKLMNOPRSTVWZ"
PLANS = ("Starter", "Pro", "Business")
LOCALES = ("en-US", "en-GB", "es-AR", "es-ES", "de-DE", "fr-FR", "pt-BR")

# --------------------------------------------------------------------------------------------
# hostile / awkward text as real users write it (deterministic selection, see is_hostile)

HOSTILE_SAMPLES = {
    "markup": "[bold]URGENT[/bold] my order [link=http://evil.example]click[/link] is late [/] [red]",
    "ansi": "why is this \x1b[31mRED\x1b[0m and \x1b[2J\x1b[H my screen cleared?",
    "osc": "see \x1b]8;;http://x.example\x07this link\x1b]8;;\x07 and \x1b]52;c;ZXZpbA==\x07 done",
    "c0": "null\x00byte bell\x07 backspace\x08\x08 tab\tform\x0cfeed\rreturn",
    "emoji": "refund please 😡😡 📦💸 👨‍👩‍👧‍👦 🏳️‍🌈 ✔︎",
    "cjk": "注文番号ORD-1の返金をお願いします。商品が壊れていました。谢谢！",
    "rtl": "أريد استرداد المبلغ من فضلك — אני רוצה החזר כספי bitte",
    "huge": "",  # built at run time: a ~50 KB message
    "empty": "",
    "missing": "hi, where is my order?",  # optional keys omitted from the body
}
HOSTILE_KINDS = tuple(HOSTILE_SAMPLES)
HUGE_TEXT = ("This is a very long complaint. " * 1700)[:50_000]
# Spreadsheet formula ("CSV") injection: the "formula" kind takes most of the rare "huge"
# picks (hostile_kind). It is not in HOSTILE_KINDS, so which conversations are hostile, the
# other kinds and every random draw stay as they were.
FORMULA_SAMPLES = (
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
)


def hostile_text(kind: str, seq: int) -> str:
    """The sample text of hostile ``kind`` for conversation ``seq`` ("" for huge and empty)."""
    if kind == "formula":
        return FORMULA_SAMPLES[(seq // 7) % len(FORMULA_SAMPLES)]
    return HOSTILE_SAMPLES[kind]


def hostile_hash(seed: int, seq: int) -> int:
    """Multiplicative hash, the same expression works in SQL (see generate.py)."""
    return (seq * 2654435761 + seed * 40503) % 1000


def is_hostile(seed: int, seq: int, size: int) -> bool:
    """~2% of conversations, plus one of each kind among the newest ones (most recent week)."""
    return hostile_hash(seed, seq) < 20 or forced_hostile_kind(seq, size) is not None


def forced_hostile_kind(seq: int, size: int) -> str | None:
    """The newest conversations (seq = generation order, so newest last) get every kind once."""
    n = len(HOSTILE_KINDS)
    step = 3
    back = size - 1 - seq
    if size >= n * step * 4 and 0 <= back < n * step and back % step == 0:
        return HOSTILE_KINDS[back // step]
    return None


def hostile_kind(seed: int, seq: int, size: int) -> str | None:
    forced = forced_hostile_kind(seq, size)
    if forced:
        return forced
    h = hostile_hash(seed, seq)
    if h >= 20:
        return None
    kind = HOSTILE_KINDS[(seq // 7 + h) % len(HOSTILE_KINDS)]
    if kind == "huge" and (seq // 7) % 5:  # keep 50 KB messages rare
        kind = "formula"
    return kind


# --------------------------------------------------------------------------------------------
# world entities


@dataclass
class Version:
    id: str
    base_key: str
    base_id: str
    name: str
    number: int
    model: str
    content: str
    kb_ids: list[str]
    created_ts: int
    is_deleted: bool = False


@dataclass
class Base:
    key: str
    id: str
    name: str
    project_id: str
    versions: list[Version]
    history: list[tuple[int, int, str | None]]  # (activated_ts, version_number, by), ascending
    inbox_ids: list[str]
    is_deleted: bool = False
    _hist_ts: list[int] = field(default_factory=list)

    def active_version(self, ts: int) -> Version:
        if not self._hist_ts:
            self._hist_ts = [h[0] for h in self.history]
        i = max(bisect.bisect_right(self._hist_ts, ts) - 1, 0)
        return self.versions[self.history[i][1] - 1]


@dataclass
class KbItem:
    id: str
    kb_id: str
    item_type: str | None
    title: str
    url: str | None
    content: str
    intents: tuple[str, ...]


@dataclass
class Kb:
    id: str
    project_id: str
    title: str
    kb_type: str
    status: str
    source: str
    items: list[KbItem]
    body: dict[str, Any]
    file_name: str | None = None


@dataclass
class Project:
    id: str
    name: str
    api_key: str
    inboxes: list[tuple[str, str, float]]  # (id, name, weight)


@dataclass
class World:
    seed: int
    anchor: str
    size: int
    start_ts: int
    end_ts: int
    account_id: str
    main: Project
    other: Project
    bases: dict[str, Base]
    kbs: list[Kb]
    kb_items_by_intent: dict[str, list[KbItem]]
    api_tools: dict[str, dict[str, Any]]  # key -> body (incl. id)
    skill_ids: dict[str, str]
    toolkit_ids: dict[str, str]
    day_cum: list[int]  # cumulative conversation counts per day
    day_weights: list[float]
    incident_day: int
    kb_by_id: dict[str, Kb] = field(default_factory=dict)
    last_day_hours: int = 24  # hours of the anchor day with data (it ends at the demo's "now")
    # the planted effects (PLANTED): the version id and the KB item behind them
    frustrating_version: str = ""
    misleading_item: KbItem | None = None

    def hours_of(self, day: int) -> int:
        return self.last_day_hours if day == DAYS - 1 else 24

    def day_of(self, seq: int) -> int:
        return bisect.bisect_right(self.day_cum, seq)


def _instructions(name: str, focus: str, number: int, rng: random.Random) -> str:
    rules = [
        f"You are {name}, the customer support assistant of Demo Shop. Focus: {focus}.",
        "Always greet the customer by name when the contact has one.",
        "Search the knowledge base before answering policy questions and cite the source.",
        "Never promise a refund before checking the order with lookup_order.",
        "Refunds above $200 need a human: hand off with the reason 'policy'.",
        "If the customer asks for a human twice, hand off immediately.",
        "Load the matching skill (refund-process, order-tracking, ...) before acting.",
        "Reply in the customer's language; keep answers under 80 words.",
        "Create an Intercom ticket (type 68) for reproducible bugs with device and version.",
        "Offer a $5 shipping credit for deliveries late by more than 3 days.",
        "Do not use emojis unless the customer does.",
        "Post VIP escalations to Slack channel #escalations.",
    ]
    keep = rules[: 4 + 2 * number]
    if number >= 3:
        keep[4] = keep[4].replace("$200", "$150")
    if number >= 4:
        keep.append("When sentiment turns negative, acknowledge the frustration first.")
    head, rest = keep[0], keep[1:]
    rng.shuffle(rest)
    rest.append("Changes in this version: " + CHANGELOG[min(number, len(CHANGELOG)) - 1])
    return "\n".join([head] + [f"- {r}" for r in rest])


CHANGELOG = (
    "initial release.",
    "check the order before any refund; hand off on explicit requests.",
    "refund threshold lowered to $150; reply in the customer's language.",
    "acknowledge frustration before answering; file bug tickets.",
    "bilingual answers (English/Spanish); Slack escalations for VIPs.",
)


def _build_bases(rng: random.Random, main: Project, other: Project, start: int, end: int,
                 kb_ids: dict[str, list[str]]) -> dict[str, Base]:
    specs = (  # key, name, project, focus, versions, models, inbox idx, deleted
        ("support", "Support Assistant", main, "orders, shipping, accounts, bugs", 5,
         ("gpt-4o-mini", "gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-mini", "claude-haiku-4.5"),
         (0, 1, 2), False),
        ("billing", "Billing Assistant", main, "invoices, charges, cancellations", 3,
         ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-mini"), (0, 2), False),
        ("sales", "Sales Concierge", main, "pricing and plans", 4,
         ("gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4.1-mini"), (0, 1), False),
        ("legacy", "Legacy FAQ Bot", main, "frequently asked questions", 2,
         ("gpt-4o-mini", "gpt-4o-mini"), (0,), True),
        ("travel", "Travel Helper", other, "bookings and baggage", 2,
         ("gpt-4o-mini", "gpt-4.1-mini"), (0,), False),
    )
    bases: dict[str, Base] = {}
    for key, name, proj, focus, n, models, inbox_idx, deleted in specs:
        base_id = new_id(rng)
        first_ts = start - (30 + rng.randrange(60)) * DAY
        versions = []
        for v in range(1, n + 1):
            vname = name if v < n or key != "support" else "Support Assistant (EN/ES)"
            created = first_ts + (v - 1) * (end - first_ts) // (n + 1) - rng.randrange(DAY)
            versions.append(Version(
                new_id(rng), key, base_id, vname, v, models[v - 1],
                _instructions(name, focus, v, rng),
                list(kb_ids.get(key, ())[: 2 + v]), created, deleted))
        bases[key] = Base(key, base_id, name, proj.id, versions,
                          _active_history(rng, versions, start, end, deleted),
                          [proj.inboxes[i][0] for i in inbox_idx], deleted)
    return bases


def _active_history(rng: random.Random, versions: list[Version], start: int, end: int,
                    deleted: bool) -> list[tuple[int, int, str | None]]:
    people = ("maria@demo.example", "tom@demo.example", None)
    hist = [(versions[0].created_ts + 3600, 1, rng.choice(people))]
    for v in versions[1:]:
        hist.append((v.created_ts + rng.randrange(3600, 3 * DAY), v.number, rng.choice(people)))
    if len(versions) >= 4:  # a rollback: v(n-1) active again for a day, then v(n)
        ts, num, _ = hist[-1]
        hist.insert(-1, (ts - DAY, num - 2, "maria@demo.example"))
        hist[-1] = (ts + DAY // 2, num, "tom@demo.example")
    hist = sorted(h for h in hist if h[0] < end)
    if deleted:  # a deleted playbook stopped being used 100 days ago
        hist = [h for h in hist if h[0] < start + 15 * DAY]
    return hist


KB_SPECS = (  # title, type, status, source, item kind, playbook keys
    ("Help Center", "INTERCOM", "ACTIVE", "intercom", "intercom", ("support", "billing", "sales")),
    ("Billing FAQ", "FAQ", "ACTIVE", "faq", "faq", ("billing", "support")),
    ("Canned Replies", "SNIPPETS", "ACTIVE", "snippet", "snippet", ("support", "sales")),
    ("Return Policy", "TEXT", "ACTIVE", "text", None, ("support", "billing")),
    ("Shipping Rates 2026", "FILE", "EDITED", "file", None, ("support",)),
    ("Product Docs", "NOTION", "ACTIVE", "notion", "notion", ("sales", "support")),
    ("Internal Runbooks", "GDRIVE", "ADDED", "gdrive", "gdrive", ("support",)),
    ("Old Pricing 2024", "TEXT", "DELETED", "text", None, ("legacy",)),
    ("Archived Macros 2023", "SNIPPETS", "DELETED", "snippet", "snippet", ()),
)
FINAL_DELETED = ("Archived Macros 2023",)  # permanently deleted: listed only on request

# Effects planted for the comparative screens to find (docs/ARCHITECTURE.md): the support
# assistant's v4 hands off for frustration far more often (its team rolled it back), and one
# help-center article sends people the wrong way, so most conversations citing it turn negative.
PLANTED_VERSION = ("support", 4)
PLANTED_ITEM = ("Help Center", "Tracking your parcel")
PLANTED_ITEM_BODY = ("Track your parcel on the ParcelCo portal with the 8-digit code from your "
                     "order email. (ParcelCo stopped carrying our orders in 2025: its portal "
                     "finds none of them.)")

ARTICLES = {  # intent -> article titles
    "refund": ("How refunds work", "Refund timelines by payment method", "Damaged items"),
    "billing": ("Understanding your invoice", "Duplicate charges and pre-authorisations",
                "Adding a VAT number"),
    "shipping": ("Tracking your parcel", "Delivery delays", "Changing a delivery address"),
    "password_reset": ("Resetting your password", "Two-factor authentication"),
    "cancellation": ("Cancel or pause a subscription", "What happens to my data"),
    "pricing": ("Plans and pricing", "Nonprofit discount", "Annual billing"),
    "plan_upgrade": ("Upgrading your plan", "Prorated charges"),
    "account_update": ("Changing your account email", "Deleting your account"),
    "bug_report": ("Known issues", "Clearing the app cache"),
    "product_question": ("Shopify integration", "Exporting data to CSV", "Stock notifications"),
}


def _build_kbs(rng: random.Random, main: Project,
               other: Project) -> tuple[list[Kb], dict[str, list[str]]]:
    kbs: list[Kb] = []
    by_base: dict[str, list[str]] = {}
    for title, kb_type, status, source, item_type, users in KB_SPECS:
        kb_id = new_id(rng)
        items = []
        if item_type:
            for intent, titles in ARTICLES.items():
                for t in titles:
                    if rng.random() < 0.55:
                        continue
                    iid = str(rng.randrange(10**6, 10**7)) if item_type == "intercom" else new_id(rng)
                    url = None if item_type in ("faq", "snippet") else _item_url(item_type, iid, t)
                    body = (PLANTED_ITEM_BODY if (title, t) == PLANTED_ITEM
                            else ARTICLES_BODY.get(intent, "See the article."))
                    items.append(KbItem(iid, kb_id, item_type, t, url, f"{t}: {body}",
                                        (intent,)))
        else:
            items.append(KbItem("", kb_id, None, title, None,
                                f"{title}. {ARTICLES_BODY['refund']}", tuple(ARTICLES)))
        kb = Kb(kb_id, main.id, title, kb_type, status, source, items, {},
                "shipping-rates-2026.pdf" if kb_type == "FILE" else None)
        kb.body = _kb_body(kb, rng)
        kbs.append(kb)
        for u in users:
            by_base.setdefault(u, []).append(kb_id)
    travel = Kb(new_id(rng), other.id, "Travel FAQ", "FAQ", "ACTIVE", "faq", [], {})
    travel.items = [KbItem(new_id(rng), travel.id, "faq", t, None, t + ": see policy.",
                           ("other",)) for t in ("Baggage allowance", "Change a booking")]
    travel.body = _kb_body(travel, rng)
    kbs.append(travel)
    by_base["travel"] = [travel.id]
    return kbs, by_base


ARTICLES_BODY = {
    "refund": "Refunds are issued to the original payment method within 5-7 business days "
              "after the return is received. Damaged items are refunded without a return.",
    "billing": "Each invoice lists the plan, seats and taxes. Pre-authorisations drop off "
               "within 3 business days.",
    "shipping": "Standard delivery takes 3-5 business days; tracking updates every 24 hours.",
    "password_reset": "Reset links are valid for 30 minutes; accounts unlock after 15 minutes.",
    "cancellation": "You keep access until the end of the period; data is kept 90 days.",
    "pricing": "Starter $9, Pro $19, Business $24 per seat per month billed yearly.",
    "plan_upgrade": "Upgrades are prorated to the day.",
    "account_update": "Email changes require a verification code sent to the old address.",
    "bug_report": "Known issue: checkout on Safari 17. Workaround: use another browser.",
    "product_question": "The Shopify app syncs orders every 5 minutes.",
}


def _item_url(item_type: str, iid: str, title: str) -> str:
    slug = "-".join(title.lower().split())
    return {
        "intercom": f"https://help.demo.example/en/articles/{iid}-{slug}",
        "notion": f"https://www.notion.so/demo/{slug}-{iid.replace('-', '')[:16]}",
        "gdrive": f"https://docs.google.com/document/d/{iid.replace('-', '')}",
    }[item_type]


def _kb_body(kb: Kb, rng: random.Random) -> dict[str, Any]:
    created = f"2025-11-0{1 + rng.randrange(9)}T10:00:00Z"
    body: dict[str, Any] = {"id": kb.id, "project_id": kb.project_id, "title": kb.title,
                  "kb_type": kb.kb_type, "status": kb.status, "created_at": created,
                  "updated_at": created.replace("2025-11", "2026-01")}
    if kb.title in FINAL_DELETED:
        body["is_final_deleted"] = True
    if kb.kb_type in ("TEXT", "FILE"):
        body["content"] = kb.items[0].content
        if kb.file_name:
            body["file_name"] = kb.file_name
    elif kb.kb_type == "FAQ":
        body["faq_items"] = [{"id": i.id, "questions": [i.title + "?", "How about " + i.title.lower()
                                                        + "?"], "answer": i.content}
                             for i in kb.items]
    elif kb.kb_type == "SNIPPETS":
        body["snippet_items"] = [{"id": i.id, "title": i.title, "content": i.content}
                                 for i in kb.items]
    elif kb.kb_type == "INTERCOM":
        body["intercom_items"] = [{"id": i.id, "title": i.title, "url": i.url} for i in kb.items]
    else:  # NOTION / GDRIVE: linked pages
        body["items"] = [{"id": i.id, "title": i.title, "url": i.url} for i in kb.items]
    return body


def _day_weights(rng: random.Random, start: int, last_day_hours: int = 24
                 ) -> tuple[list[float], int]:
    weekday = (1.15, 1.12, 1.06, 1.0, 0.9, 0.58, 0.52)
    incident = DAYS - 35 - rng.randrange(20)
    weights = []
    for d in range(DAYS):
        wd = dt.datetime.fromtimestamp(start + d * DAY, dt.UTC).weekday()
        w = weekday[wd] * (0.8 + 0.4 * d / DAYS) * (0.9 + 0.2 * rng.random())
        if d == incident:
            w *= 1.9
        weights.append(w)
    weights[-1] *= day_share(last_day_hours)  # the anchor day so far
    return weights, incident


def _allocate(weights: list[float], size: int) -> list[int]:
    """Largest-remainder allocation of ``size`` conversations to days; returns cumulative."""
    total = sum(weights)
    raw = [w * size / total for w in weights]
    counts = [int(x) for x in raw]
    rest = size - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[:rest]:
        counts[i] += 1
    cum, acc = [], 0
    for c in counts:
        acc += c
        cum.append(acc)
    return cum


HOUR_WEIGHTS = (0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.6, 1.4, 1.5, 1.6, 1.6,
                1.5, 1.3, 1.1, 1.0, 0.9, 0.8, 0.6, 0.35)
_HOUR_CUM = []
_acc = 0.0
for _w in HOUR_WEIGHTS:
    _acc += _w
    _HOUR_CUM.append(_acc)


def pick_second_of_day(rng: random.Random, hours: int = 24) -> int:
    """A second of the day, by the hourly traffic, within its first ``hours`` hours (the
    anchor day ends at the demo's "now")."""
    hours = max(1, min(hours, 24))
    hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[hours - 1])
    return min(hour, hours - 1) * 3600 + rng.randrange(3600)


def day_share(hours: int) -> float:
    """The share of a day's traffic in its first ``hours`` hours."""
    return _HOUR_CUM[hours - 1] / _HOUR_CUM[-1] if hours > 0 else 0.0


@lru_cache(maxsize=8)
def build_world(seed: int, anchor: str, size: int) -> World:
    rng = random.Random(f"world:{seed}")
    start, end = anchor_bounds(anchor)
    account_id = new_id(rng)
    main_id, other_id = new_id(rng), new_id(rng)
    main = Project(main_id, "Demo Shop", "sbs_demo_" + rng.randbytes(16).hex(),
                   [(new_id(rng), "Website Chat", 0.55), (new_id(rng), "WhatsApp", 0.3),
                    (new_id(rng), "Email", 0.15)])
    other = Project(other_id, "Nimbus Travel", "sbs_demo_" + rng.randbytes(16).hex(),
                    [(new_id(rng), "Website Chat", 0.7), (new_id(rng), "WhatsApp", 0.3)])
    kbs, kb_by_base = _build_kbs(rng, main, other)
    bases = _build_bases(rng, main, other, start, end, kb_by_base)
    by_intent: dict[str, list[KbItem]] = {}
    for kb in kbs:
        if kb.status == "DELETED":
            continue
        for item in kb.items:
            for intent in item.intents:
                by_intent.setdefault(intent, []).append(item)
    tools = {}
    for proj, defs in ((main, API_TOOLS), (other, OTHER_API_TOOLS)):
        for t in defs:
            tools[t.key] = _api_tool_body(rng, proj.id, t)
    last_day_hours = (end + 1 - (start + (DAYS - 1) * DAY)) // 3600
    weights, incident = _day_weights(rng, start, last_day_hours)
    world = World(
        seed, anchor, size, start, end, account_id, main, other, bases, kbs, by_intent, tools,
        {name: new_id(rng) for name in SKILLS},
        {slug: new_id(rng) for slug in TOOLKITS},
        _allocate(weights, size), weights, incident, last_day_hours=last_day_hours)
    world.kb_by_id = {kb.id: kb for kb in kbs}
    key, number = PLANTED_VERSION
    world.frustrating_version = bases[key].versions[number - 1].id
    world.misleading_item = next((i for kb in kbs if kb.title == PLANTED_ITEM[0]
                                  for i in kb.items if i.title == PLANTED_ITEM[1]), None)
    return world


def _api_tool_body(rng: random.Random, project_id: str, t: ApiToolDef) -> dict[str, Any]:
    return {
        "id": new_id(rng), "project_id": project_id, "name": t.name, "description": t.description,
        "method": t.method, "url": t.url,
        "headers": {"Accept": "application/json", "X-Client": "studio-chat"},
        "parameters": [{"name": n, "type": ty, "description": d, "required": True}
                       for n, ty, d in t.params],
        "created_at": "2025-10-14T09:30:00Z", "updated_at": "2026-02-02T16:12:00Z",
    }
