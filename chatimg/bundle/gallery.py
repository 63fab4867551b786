"""``index.html``: a self-contained gallery of a bundle, readable in any browser.

No scripts, no network: one inline stylesheet, images by relative ``assets/...`` paths, and every
piece of text escaped. Built from the manifest alone, so it shows exactly what the bundle holds.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5rem;background:#15161a;color:#e7e7ea}
header{border-bottom:1px solid #333;margin-bottom:1rem}
h1{font-size:1.4rem;margin:.2rem 0}
.meta,.facts{color:#a0a0aa;font-size:.85rem}
.message{border-left:3px solid #4a6ee0;padding:.3rem .8rem;margin:1.2rem 0}
.message.branch{border-left-color:#d08a2a;margin-left:1.5rem}
.text{white-space:pre-wrap;font-size:1.05rem;margin:.3rem 0}
.generations{display:flex;flex-wrap:wrap;gap:.8rem}
.gen{background:#1f2026;border:1px solid #2d2e36;border-radius:6px;padding:.6rem;max-width:340px}
.gen img{max-width:320px;height:auto;display:block;margin:.4rem 0;background:#000}
.status-failed,.status-cancelled,.status-interrupted{color:#ff7b72}
.status-succeeded{color:#7ee787}
.error{color:#ff7b72;font-size:.85rem;white-space:pre-wrap}
.check-pass{color:#7ee787}.check-fail{color:#ff7b72}
table{border-collapse:collapse}td{padding:.1rem .5rem .1rem 0;vertical-align:top}
"""


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return escape(text)
    return text


class _Escaped(dict[str, str]):
    """``_text`` of the texts looked up, each worked out once: for the texts a gallery
    repeats on every card (status, model, engine, version, params, route)."""

    def __missing__(self, value: str) -> str:
        escaped = self[value] = _text(value)
        return escaped


def _money(value: Any) -> str:
    return "-" if value is None else f"${float(value):.4f}"


#: The parameters a card shows, in this order, when they are set.
_PARAM_KEYS = ("steps", "guidance", "scheduler", "width", "height", "strength",
               "negative_prompt", "upscale", "source_asset", "mask_asset")


def _params_line(params: dict[str, Any]) -> str:
    return ", ".join([f"{key}={value}" for key in _PARAM_KEYS
                      if (value := params.get(key)) is not None])


def render_index(manifest: dict[str, Any]) -> str:
    """The gallery page for a manifest (escaped HTML, no scripts, relative image paths)."""
    conv = manifest["conversation"]
    paths = {asset["sha256"]: asset for asset in manifest["assets"]}
    by_message: dict[str, list[dict[str, Any]]] = {}
    for g in manifest["generations"]:
        by_message.setdefault(g["message_id"], []).append(g)
    checks: dict[str, list[dict[str, Any]]] = {}
    for check in manifest["validations"]:
        checks.setdefault(check["generation_id"] or "", []).append(check)
    numbers = {m["id"]: n for n, m in enumerate(manifest["messages"], start=1)}
    repeated = _Escaped()
    total_cost = sum(g["cost_usd"] or 0 for g in manifest["generations"])

    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(conv['title'] or conv['id'])} · chatimg bundle</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header>",
        f"<h1>{_text(conv['title'] or '(untitled)')}</h1>",
        f'<p class="meta">conversation {_text(conv["id"])} · {len(manifest["messages"])} messages'
        f' · {len(manifest["generations"])} generations · {len(manifest["assets"])} images'
        f" · total cost {_money(total_cost)} · exported {_text(manifest['exported_at'])}"
        f" by chatimg {_text(manifest['app_version'])}"
        f" (bundle version {_text(manifest['version'])})</p>",
        "</header><main>",
    ]
    for message in manifest["messages"]:
        number = numbers[message["id"]]
        branch = message["parent_id"]
        css = "message branch" if branch else "message"
        out.append(f'<section class="{css}" id="m{number}">')
        label = f"#{number} {_text(message['role'])}"
        if branch:
            parent = numbers.get(branch, 0)
            label += f' · branch of <a href="#m{parent}">#{parent}</a>'
        if message["model"]:
            label += f" · {_text(message['model'])}"
        out.append(f'<p class="meta">{label} · {_text(message["created_at"])}</p>')
        out.append(f'<p class="text">{_text(message["text"])}</p>')
        out.append('<div class="generations">')
        for g in by_message.get(message["id"], []):
            out.append(_generation_card(g, paths, checks.get(g["id"], []), repeated))
        out.append("</div></section>")
    if manifest["picks"]:
        out.append("<section><h2>Picks</h2><ul>")
        for pick in manifest["picks"]:
            images = pick.get("images") or [0] * len(pick["generation_ids"])
            others = ", ".join(_text(_image_ref(gid, image))
                               for gid, image in zip(pick["generation_ids"], images, strict=False))
            winner = _image_ref(pick["winner_id"], pick.get("winner_image") or 0)
            out.append(
                f"<li>winner <strong>{_text(winner)}</strong> of {others}"
                f" · {_text(pick['picked_by'] or '')} {_text(pick['created_at'])}</li>"
            )
        out.append("</ul></section>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _generation_card(g: dict[str, Any], assets: dict[str, dict[str, Any]],
                     checks: list[dict[str, Any]], repeated: _Escaped) -> str:
    """One generation's card. Text from the manifest is escaped; what this function writes
    itself (row names, numbers it formats) has nothing to escape, so it is not passed through
    ``_text`` again. A thousand-card gallery calls this a thousand times: it builds the card
    as few strings as it can, without a loop over its fixed rows."""
    text = _text
    requested, resolved = g["requested_model"], g["resolved_model"]
    model = resolved or requested
    status = repeated[str(g["status"])] if g["status"] is not None else ""
    parts = [f'<article class="gen"><strong class="status-{status}">{status}</strong>'
             f" · {repeated[str(model)] if model is not None else ''}"]
    for image in g["images"]:
        asset = assets.get(image["sha256"])
        if asset is None:
            continue
        path, seed = text(asset["path"]), text(image["seed"])
        width, height = int(asset["width"]), int(asset["height"])
        parts.append(
            f'<a href="{path}"><img src="{path}" width="{width}" height="{height}"'
            f' alt="image {int(image["index"])} seed {seed}" loading="lazy"></a>'
            f'<span class="facts">seed {seed} · {width}×{height}'
            f' · sha256 {text(image["sha256"][:12])}</span>'
        )
    if g["error"]:
        parts.append(f'<p class="error">{text(g["error"])}</p>')
    parts.append('<table class="facts">')
    asked = f" (asked {requested})" if resolved and resolved != requested else ""
    if named := model + asked:
        parts.append(f"<tr><td>model</td><td>{repeated[named]}</td></tr>")
    kind, model_id = g["engine_kind"], g["model_id"]
    if engine := (f"{kind} {model_id}" if kind and model_id else str(kind or model_id or "")):
        parts.append(f"<tr><td>engine</td><td>{repeated[engine]}</td></tr>")
    if version := g["model_version"]:
        parts.append(f"<tr><td>version</td><td>{repeated[str(version)]}</td></tr>")
    if params := _params_line(g["params"]):
        parts.append(f"<tr><td>params</td><td>{repeated[params]}</td></tr>")
    if (latency := g["latency_ms"]) is not None:
        parts.append(f"<tr><td>latency</td><td>{latency:.0f} ms</td></tr>")
    cost = g["cost_usd"]
    parts.append(f"<tr><td>cost</td><td>{'-' if cost is None else f'${float(cost):.4f}'}"
                 f"{' (est.)' if g['cost_estimated'] else ''}</td></tr>")
    if route := g["route_reason"]:
        parts.append(f"<tr><td>route</td><td>{repeated[str(route)]}</td></tr>")
    if fallback := g["fallback_of"]:
        parts.append(f"<tr><td>fallback of</td><td>{text(fallback)}</td></tr>")
    if generation_id := g["id"]:
        parts.append(f"<tr><td>id</td><td>{text(generation_id)}</td></tr>")
    parts.append("</table>")
    for check in checks:
        mark = "pass" if check["passed"] else "fail"
        score = "" if check["score"] is None else f" {check['score']:.3f}"
        parts.append(f'<div class="facts check-{mark}">check {text(check["name"])}'
                     f" v{text(check['version'])}: {mark}{score}</div>")
    parts.append("</article>")
    return "".join(parts)


def _image_ref(generation_id: str, image: int) -> str:
    """A generation id, with ``#k`` when the image is not its first (as ``chatimg compare``)."""
    return generation_id if not image else f"{generation_id}#{image + 1}"
