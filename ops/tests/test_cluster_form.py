"""ops.cluster reads a form as a browser would send it back."""

from ops.cluster import FormFields

FORM = """<form method="post" action="/parties/7/edit/">
<input type="text" name="title" value="Paella night">
<input type="datetime-local" name="reply_by">
<input type="checkbox" name="potluck">
<input type="checkbox" name="allergens" value="gluten" checked>
<input type="checkbox" name="remember" checked>
<select name="timezone"><optgroup label="Europe">
<option value="Europe/Paris" selected>Paris</option></optgroup></select>
<textarea name="description">
Bring a chair</textarea>
<button type="submit">Save</button>
</form>"""


def test_an_empty_box_is_sent_empty_and_an_unticked_one_not_at_all():
    fields = FormFields("/parties/7/edit/")
    fields.feed(FORM)

    assert fields.fields == [
        ("title", "Paella night"),
        ("reply_by", ""),
        ("allergens", "gluten"),
        ("remember", "on"),
        ("timezone", "Europe/Paris"),
        ("description", "Bring a chair"),
    ]
