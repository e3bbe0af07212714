"""What the demo's customers and agents say: the service desk's channels and macros, the needs
customers write in with, and the phone calls. Plain data; ``demo_conversations`` tells the stories."""

from __future__ import annotations

from typing import Any

ANCHOR_NAME = "Northwind Outfitters"
SUPPORT = "support@northwind.example"
CHANNELS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("email", "Northwind support mail", {"address": SUPPORT, "from_name": "Northwind Support"}),
    (
        "chat",
        "Northwind web chat",
        {
            "allowed_origins": ["http://127.0.0.1:8000", "http://localhost:8000"],
            "greeting": "Hi! Ask us about sizes, stock, orders or returns.",
        },
    ),
    (
        "sms",
        "Northwind SMS",
        {
            "account_sid": "AC" + "0" * 31 + "7",
            "auth_token": "demoauthtoken0000000007",
            "from_number": "+447700900007",
        },
    ),
    (
        "whatsapp",
        "Northwind WhatsApp",
        {
            "account_sid": "AC" + "0" * 31 + "7",
            "auth_token": "demoauthtoken0000000007",
            "from_number": "+447700900008",
        },
    ),
    ("voice", "Northwind store line", {"secret": "demo-voice-secret-0007", "number": "+442079460007"}),
    ("api", "In-store tablets", {"secret": "demo-tablet-secret-0007"}),
)
MACROS = (
    (
        "Returns: how to",
        "Hi {{ customer.first_name }},\n\nYou can return anything within 60 days: bring it to any Northwind "
        "store, or print a free label from your account. Refunds reach you within 5 working days.\n\n"
        "{{ brand.signature }}",
    ),
    (
        "Order on its way",
        "Hi {{ customer.first_name }},\n\nYour order is on its way and should arrive within two working "
        "days. You will get a tracking link by email.\n\n{{ brand.signature }}",
    ),
)
# What customers write about: (topic, channel, opening, agent's answer, follow-up or "").
NEEDS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "stock",
        "chat",
        "Do you have the Ridgeline Trail Runner in a 6.5? The website says out of stock.",
        "Porto has a pair in 6.5. Reviews say it runs small, so 6.5 should be right if you are usually a 6.",
        "Great, can they hold it for me until Saturday?",
    ),
    (
        "defect",
        "email",
        "The sole of my Summit Mid boots is coming off after two months. Order W0000412.",
        "I am so sorry. Could you send a photo of the sole? Then we can replace them or refund you.",
        "Photo attached in my previous mail. I would prefer a refund.",
    ),
    ("order_status", "sms", "Hi, where is my order? It said 3 days and it has been 6.", "", ""),
    (
        "delivery",
        "whatsapp",
        "Can I change the delivery address for my order? I am away next week.",
        "Yes: reply with the new address and we will update it before it ships tomorrow.",
        "",
    ),
    ("returns", "email", "How do I return a jacket I bought online? It is too big.", "", ""),
    (
        "coupon",
        "chat",
        "Can I use my coupon online as well as in store?",
        "Yes, the code works online too: enter it at checkout before paying.",
        "",
    ),
    (
        "stock",
        "api",
        "Customer at the till asking for the Stormshell Rain Jacket in M, none on the shelf.",
        "Lisbon has two in M; we can send one to the store by Thursday.",
        "",
    ),
    ("loyalty", "email", "My loyalty points from last week's visit are missing.", "", ""),
    ("sizing", "chat", "Is the Harbour Leather Sneaker true to size?", "", ""),
    ("defect", "whatsapp", "The zip on my Trailhead daypack broke on the first trip.", "", ""),
    (
        "order_status",
        "email",
        "I was charged twice for order W0000731.",
        "You are right, I see two charges. I have asked for the second to be refunded.",
        "Thank you!",
    ),
    ("returns", "sms", "Can I return sandals I wore once? They rub.", "", ""),
)
CALLS: tuple[tuple[str, int], ...] = (
    ("Caller asked whether the Porto store can hold the Ridgeline in 6.5 until Saturday.", 184),
    ("Caller wants to return hiking poles bought as a gift; has no receipt.", 312),
    ("Caller reports a parcel marked delivered that never arrived.", 421),
)
