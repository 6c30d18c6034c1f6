"""Form pieces both apps use."""

from django import forms


def codes_field(choices, *, label: str, **kwargs) -> forms.MultipleChoiceField:
    """Tick boxes for diets or allergens (any, all or none of them)."""
    return forms.MultipleChoiceField(
        label=label,
        choices=lambda: choices.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )
