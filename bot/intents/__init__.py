"""What subscribers type, understood without any outside service (issue 21).

Telegram-free: ``classify`` (bot.intents.classifier) names the item a message asks for, with a
confidence and the likeliest alternatives; ``details`` (bot.intents.details) reads the day,
month, period or way to pay it mentions; ``small_talk`` recognises greetings, thanks and "ok".
"""

from bot.intents.classifier import CONFIDENT, INTENTS, OTHER, Classification, Guess, classify
from bot.intents.details import Details, details
from bot.intents.small_talk import small_talk

__all__ = [
    "CONFIDENT",
    "INTENTS",
    "OTHER",
    "Classification",
    "Details",
    "Guess",
    "classify",
    "details",
    "small_talk",
]
