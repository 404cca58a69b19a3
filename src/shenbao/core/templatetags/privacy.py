from django import template

from shenbao.core.privacy import mask_personal, mask_text

register = template.Library()


@register.filter
def masked(value):
    """{{ event.after|masked }}: personal fields hidden (see shenbao.core.privacy)."""
    return mask_personal(value)


@register.filter
def masked_text(value):
    return mask_text(value) if value else value
