from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 1024


class MaximumLengthValidator:
    """Refuse multi-kilobyte passwords before they reach the hasher."""

    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                "This password is too long: at most %(max_length)d characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."
