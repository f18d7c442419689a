"""Thin views: consent form, history, revocation, signed-form download."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from fallkonferenz.auth.service import list_agencies
from fallkonferenz.cases.service import expiry_notice_until
from fallkonferenz.errors import InvalidInput
from fallkonferenz.forms import form_errors
from fallkonferenz.web import attachment

from . import bp, service
from .forms import ConsentForm, RevokeForm


def _input_from(form: ConsentForm) -> service.ConsentInput:
    upload = form.document.data
    content = upload.read() if upload and getattr(upload, "filename", "") else None
    return service.ConsentInput(
        grantor_kind=form.grantor_kind.data,
        grantor_name=form.grantor_name.data or "",
        signed_on=form.signed_on.data,
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        purpose=form.purpose.data or "",
        grants=service.parse_grants(request.form.getlist("grant")),
        interpreter_used=form.interpreter_used.data,
        interpreter_language=form.interpreter_language.data or "",
        verified=form.verified.data,
        document=content,
    )


@bp.route("/<number>/einwilligungen", methods=["GET", "POST"])
def history(number: str):
    form = ConsentForm()
    if request.method == "POST":
        try:
            if not form.validate():
                # With what the service finds in the fields the form could read: one round of corrections.
                raise InvalidInput(errors=service.problems(_input_from(form)) | form_errors(form))
            service.grant_consent(g.user, number, _input_from(form))
            flash("Die Einwilligung wurde gespeichert.", "success")
            return redirect(url_for("consent.history", number=number.upper()))
        except InvalidInput as exc:
            return _history_page(number, form, errors=exc.errors, checked=set(request.form.getlist("grant")))
    return _history_page(number, form)


def _history_page(number: str, form: ConsentForm, *, errors=None, checked=None, revoke=None):
    """The consent history with the form for a new version; refused input (a new version's, or a revocation's
    with `revoke` = {"id", "errors", "reason"}) comes back in its form, with the message at the field."""
    case, rows = service.consent_history(g.user, number)
    # A new version replaces the one in force: its form starts from that version's grants, so that only what is
    # changed on purpose changes (an empty matrix took every agency's access away unless all was ticked again).
    current = next((r for r in rows if r.status == "active"), None)
    if checked is None:
        checked = {
            f"{code}:{category}"
            for code, categories in (current.grants if current else {}).items()
            for category in categories
        }
    return (
        render_template(
            "consent/history.html",
            case=case,
            rows=rows,
            form=form,
            errors=errors or {},
            agencies=list_agencies(),
            checked=checked,
            current=current,
            # an active version that ends within the notice period says so in its heading
            notice_until=expiry_notice_until(),
            revoke=revoke,
        ),
        422 if errors or revoke else 200,
    )


@bp.post("/<number>/einwilligungen/<int:consent_id>/widerruf")
def revoke(number: str, consent_id: int):
    form = RevokeForm()
    try:
        if not form.validate():
            raise InvalidInput(errors=form_errors(form))
        service.revoke_consent(g.user, number, consent_id, form.reason.data)
    except InvalidInput as exc:
        failed = {"id": consent_id, "errors": exc.errors or {"reason": exc.message}, "reason": form.reason.data or ""}
        return _history_page(number, ConsentForm(formdata=None), revoke=failed)
    flash("Die Einwilligung wurde widerrufen. Der Widerruf gilt ab sofort.", "success")
    return redirect(url_for("consent.history", number=number.upper()))


@bp.get("/<number>/einwilligungen/<int:consent_id>/dokument")
def document(number: str, consent_id: int):
    content, media_type, name = service.consent_document(g.user, number, consent_id)
    return attachment(content, media_type, name)
