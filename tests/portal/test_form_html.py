"""The portal's writer of tag attributes (portal.forms.html_params) against WTForms' own."""

from __future__ import annotations

import pytest
import wtforms
import wtforms.widgets.core
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import SelectChoice

from portal import forms

NAMES = st.text(alphabet="abcdefgh_-<&\"'ж", min_size=1, max_size=12)
VALUES = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.text(alphabet="<>&\"' aж", max_size=10).map(Markup),  # already markup: kept, " quoted
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=6))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    ours = forms.html_params(**attributes)
    assert ours == forms.WTFORMS_HTML_PARAMS(**attributes)
    assert isinstance(ours, Markup)


def test_names_and_values_that_try_to_break_out_are_escaped():
    written = forms.html_params(
        value='"><script>x</script>',
        title=Markup('a"b'),
        data_hint="y",
        class_="c",
        **{"on<": True},
    )
    assert written == (
        'class="c" data-hint="y" on&lt; title="a&quot;b" '
        'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"'
    )


class _Every(wtforms.Form):
    """A field of each widget the portal's forms use."""

    name = wtforms.StringField("Name", render_kw={"data_hint": 'a "b"', "required": True})
    note = wtforms.TextAreaField("Note")
    agree = wtforms.BooleanField("Agree")
    secret = wtforms.PasswordField("Secret")
    hidden = wtforms.HiddenField()
    amount = wtforms.DecimalField("Amount", render_kw={"inputmode": "decimal"})
    day = wtforms.DateField("Day")
    place = wtforms.SelectField(
        "Place",
        choices=[
            SelectChoice(7, 'Ақсу "<b>&', render_kw={"data-search": 'ақсу "<s>'}, optgroup="A"),
            SelectChoice("", "Choose", render_kw={"disabled": True}),
            SelectChoice(True, "Иә", render_kw={"hidden": False}),
        ],
        coerce=str,
    )
    kinds = wtforms.SelectMultipleField(
        "Kinds", choices=[SelectChoice("a", "A"), SelectChoice("b", "<B>")]
    )
    send = wtforms.SubmitField("Send")


def _rendered(form) -> str:
    return "".join(str(field.label) + str(field(class_="x")) for field in form)


@pytest.mark.parametrize("data", [{}, {"name": "<i>", "agree": True, "place": "7", "kinds": ["b"]}])
def test_every_widget_writes_what_wtforms_writes(app, monkeypatch, data):
    # create_app put ours in WTForms' place: render with it, then with WTForms' own again.
    assert wtforms.widgets.core.html_params is forms.html_params
    ours = _rendered(_Every(data=data))
    monkeypatch.setattr(wtforms.widgets.core, "html_params", forms.WTFORMS_HTML_PARAMS)
    monkeypatch.setattr(wtforms.widgets, "html_params", forms.WTFORMS_HTML_PARAMS)
    for widget in (wtforms.widgets.core.Input, wtforms.widgets.core.Button):
        monkeypatch.setattr(widget, "html_params", staticmethod(forms.WTFORMS_HTML_PARAMS))
    assert ours == _rendered(_Every(data=data))
    assert "<b>" not in ours and "<s>" not in ours and "<i>" not in ours


def test_a_forms_token_is_rendered_once_however_many_rows_write_it(app, monkeypatch):
    """A page writes one form's CSRF token once per row (an action per card): the same HTML,
    without an id (ids must be unique), rendered by the widget only once."""
    from portal.forms import PortalForm

    calls = []
    hidden = wtforms.widgets.HiddenInput.__call__
    monkeypatch.setattr(
        wtforms.widgets.HiddenInput,
        "__call__",
        lambda self, field, **kw: calls.append(field.name) or hidden(self, field, **kw),
    )
    with app.test_request_context("/"):
        form = PortalForm(meta={"csrf": True})
        rows = [str(form.csrf_token) for _ in range(5)]
        assert calls == ["csrf_token"]
        assert rows == [rows[0]] * 5
        assert (
            rows[0]
            == f'<input name="csrf_token" type="hidden" value="{form.csrf_token.current_token}">'
        )
        # Asked with attributes of its own, the token is rendered for them.
        assert 'class="x"' in form.csrf_token(class_="x") and len(calls) == 2
