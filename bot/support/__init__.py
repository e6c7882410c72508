"""Hand-off to the provider's team in a Telegram forum supergroup (issue 22)."""
