"""The page's one script: sorts tables by a clicked heading, pages through long tables and card
lists drawn from their JSON blobs (``lists.py``), and switches the feature map's colouring.

Vanilla JS, no framework; cells are filled with ``textContent`` and attributes, never markup.
"""

from __future__ import annotations

SCRIPT = r"""
(() => {
  "use strict";
  const blobs = {};
  const blob = id => blobs[id] || (blobs[id] = JSON.parse(document.getElementById(id).textContent));
  const collator = new Intl.Collator(undefined, {numeric: true});
  function el(name, cls, text) {
    const e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const num = (v, d) => v === null || v === undefined ? "\u2013" : d ? String(Number(v.toPrecision(d))) : String(v);
  const pct = v => v === null || v === undefined ? "\u2013" : String(Number((100 * v).toPrecision(3))) + "%";
  function base(href) {
    const last = href.split("/").pop();
    try { return decodeURIComponent(last); } catch (e) { return last; }
  }
  function name(th, data, v) {
    return th.dataset.ref ? data.rows[v][+th.dataset.ref] : data.enum[v];
  }
  function cell(th, row, data) {
    const td = el("td"), kind = th.dataset.kind, v = row[+th.dataset.col];
    if (kind === "num" || kind === "pct") {
      td.className = "num", td.textContent = kind === "pct" ? pct(v) : num(v, +th.dataset.digits || 0);
    } else if (kind === "path") {
      if (v) {
        const a = el("a", "", th.dataset.text ? row[+th.dataset.text] : base(v));
        a.setAttribute("href", v);
        td.append(a);
      }
    } else if (kind === "enum") {
      td.textContent = v === null || v === undefined ? "" : data.enum[v];
    } else if (kind === "ranked") {
      const ol = el("ol", "ranked");
      for (let i = 0; v && i + 1 < v.length; i += 2) {
        const li = el("li", "", name(th, data, v[i]) + " \u00b7 ");
        li.append(el("span", "score", num(v[i + 1], 3)));
        ol.append(li);
      }
      td.append(ol);
    } else td.textContent = v === null || v === undefined ? "" : String(v);
    return td;
  }
  function key(th, row, data) {
    const v = row[+th.dataset.col], kind = th.dataset.kind;
    if (v === null || v === undefined) return null;
    if (kind === "enum") return data.enum[v];
    if (kind === "ranked") return v.length ? name(th, data, v[0]) : null;
    return v;
  }
  function pager(list, render) {
    const n = +list.dataset.count, size = +list.dataset.page || 100, pages = Math.max(1, Math.ceil(n / size));
    const nav = el("div", "pager"), prev = el("button", "prev", "\u2039 previous");
    const next = el("button", "next", "next \u203a"), where = el("span", "where");
    nav.dataset.for = list.id, nav.append(prev, where, next), (list.closest(".scroll") || list).before(nav);
    let page = 0;
    function show(p) {
      page = Math.max(0, Math.min(p, pages - 1));
      const a = page * size, b = Math.min(n, a + size);
      render(a, b);
      where.textContent = n ? `${a + 1}\u2013${b} of ${n}` : "none";
      prev.disabled = page === 0, next.disabled = page >= pages - 1;
    }
    prev.onclick = () => show(page - 1);
    next.onclick = () => show(page + 1);
    return show;
  }
  document.querySelectorAll("table.sortable[data-rows]").forEach(table => {
    const data = blob(table.dataset.rows), ths = [...table.tHead.rows[0].cells], body = table.tBodies[0];
    const order = data.rows.map((_, i) => i);
    const show = pager(table, (a, b) => {
      const rows = document.createDocumentFragment();
      for (const i of order.slice(a, b)) {
        const tr = el("tr");
        tr.dataset.row = i;
        for (const th of ths) tr.append(cell(th, data.rows[i], data));
        rows.append(tr);
      }
      body.replaceChildren(rows);
    });
    ths.forEach(th => {
      th.tabIndex = 0;
      th.onclick = () => {
        const dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1, numeric = th.dataset.sort === "num";
        ths.forEach(h => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        const keys = data.rows.map(r => key(th, r, data));
        order.sort((i, j) => {
          const x = keys[i], y = keys[j];
          if (x === null || y === null) return x === y ? i - j : x === null ? 1 : -1;
          return dir * (numeric ? x - y : collator.compare(String(x), String(y))) || i - j;
        });
        show(0);
      };
      th.onkeydown = e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); th.onclick(); } };
    });
    show(0);
  });
  function card(row, spec, i, data) {
    const fig = el("figure", "card");
    fig.dataset.row = i;
    if (spec.img !== null && row[spec.img]) {
      const a = el("a"), img = el("img");
      a.setAttribute("href", row[spec.img]);
      img.setAttribute("loading", "lazy");
      img.setAttribute("alt", row[spec.title]);
      img.setAttribute("src", row[spec.img]);
      a.append(img);
      fig.append(a);
    }
    if (spec.video !== null && row[spec.video]) {
      const video = el("video");
      video.controls = true;
      video.preload = "metadata";
      if (spec.poster !== null && row[spec.poster]) video.setAttribute("poster", row[spec.poster]);
      video.setAttribute("src", row[spec.video]);
      fig.append(video);
    }
    fig.append(el("figcaption", "", row[spec.title]));
    if (spec.bars !== null && row[spec.bars]) {
      const list = el("ol", "bars"), v = row[spec.bars];
      for (let k = 0; k + 1 < v.length; k += 2) {
        const li = el("li"), track = el("span", "track"), fill = el("i");
        fill.style.width = `${Math.max(0, Math.min(1, v[k + 1])) * 100}%`;
        track.append(fill);
        li.append(el("span", "label", data.enum[v[k]]), track, el("span", "num", pct(v[k + 1])));
        list.append(li);
      }
      fig.append(list);
    }
    const dl = el("dl");
    for (const [label, col, digits, kind] of spec.fields) {
      dl.append(el("dt", "", label), el("dd", "num", kind === "pct" ? pct(row[col]) : num(row[col], digits)));
    }
    fig.append(dl);
    if (spec.details && row[spec.details[1]] && row[spec.details[1]].length) {
      const details = el("details"), table = el("table");
      details.append(el("summary", "", spec.details[0]));
      for (const [label, value] of row[spec.details[1]]) {
        const tr = el("tr");
        tr.append(el("th", "", label), el("td", "num", spec.details[2] === "pct" ? pct(value) : num(value, 3)));
        table.append(tr);
      }
      details.append(table);
      fig.append(details);
    }
    return fig;
  }
  document.querySelectorAll("div.cards[data-rows]").forEach(box => {
    const data = blob(box.dataset.rows), spec = JSON.parse(box.dataset.card);
    pager(box, (a, b) => {
      const cards = document.createDocumentFragment();
      for (let i = a; i < b; i++) cards.append(card(data.rows[i], spec, i, data));
      box.replaceChildren(cards);
    })(0);
  });
  document.querySelectorAll("svg.map").forEach(svg => {  // a row of the points table lights its point up
    const points = document.getElementById(svg.id.replace(/-map$/, "-points"));
    if (!points) return;
    let hot = null;
    points.addEventListener("mouseover", e => {
      const tr = e.target.closest("tbody tr");
      if (hot) hot.classList.remove("hot");
      hot = tr ? svg.querySelectorAll("circle")[+tr.dataset.row] : null;
      if (hot) hot.classList.add("hot");
    });
  });
  document.querySelectorAll("select.colour-by").forEach(select => {
    const box = document.getElementById(select.dataset.for);
    select.onchange = () => { box.dataset.by = select.value; };
  });
})();
"""
