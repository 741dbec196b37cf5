// cleankit report: renders the table and the document views from the JSON data block.
// Every piece of data reaches the page through textContent or createElement, never
// innerHTML: scraped text (and file names) may contain markup and must stay text.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("cleankit-data").textContent);
  const docs = data.docs;
  const PAGE_SIZE = 100;
  const state = { query: "", key: "share", dir: -1, page: 0, rows: [] };
  const byName = new Map();
  docs.forEach(function (doc, index) {
    [doc.source, doc.id].forEach(function (name) {
      if (name && !byName.has(name)) byName.set(name, index);
    });
  });

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        node.setAttribute(name, attrs[name]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A file name breaks only after a "/" (a <wbr> there), never inside a name: each part is
  // a span that does not wrap (not at a hyphen either, nor anywhere as table cells may).
  function nameInto(node, name) {
    String(name).split("/").forEach(function (part, i, parts) {
      if (i) node.appendChild(document.createElement("wbr"));
      node.appendChild(el("span", { class: "name-part" }, part + (i < parts.length - 1 ? "/" : "")));
    });
    return node;
  }

  function docLink(index, text) {
    const link = el("a", { href: "#doc=" + index, class: "name" });
    return nameInto(link, text === undefined ? docs[index].source : text);
  }

  function percent(share) {
    return share === null || share === undefined ? "" : (share * 100).toFixed(1) + "%";
  }

  function number(value) {
    return value === null || value === undefined ? "" : value.toLocaleString("en");
  }

  // --- the documents table ---------------------------------------------------------------

  function haystack(doc) {
    const rules = doc.rules.map(function (i) { return data.labels[i]; }).join(" ");
    return [doc.source, doc.id, doc.status, doc.encoding, rules, doc.duplicate_of || "", doc.error]
      .join(" ")
      .toLowerCase();
  }
  const haystacks = docs.map(haystack);

  function sortValue(doc, key) {
    if (key === "rules") return doc.rules.length;
    return doc[key];
  }

  function compare(a, b) {
    const x = sortValue(docs[a], state.key);
    const y = sortValue(docs[b], state.key);
    const missing = (x === null || x === undefined) - (y === null || y === undefined);
    if (missing) return missing; // empty values last in both directions
    if (typeof x === "number" && typeof y === "number") return state.dir * (x - y) || a - b;
    return state.dir * String(x).localeCompare(String(y)) || a - b;
  }

  function refreshRows() {
    const query = state.query.trim().toLowerCase();
    const rows = [];
    for (let i = 0; i < docs.length; i++) {
      if (!query || haystacks[i].indexOf(query) !== -1) rows.push(i);
    }
    rows.sort(compare);
    state.rows = rows;
    state.page = Math.min(state.page, Math.max(0, Math.ceil(rows.length / PAGE_SIZE) - 1));
    renderTable();
  }

  function renderTable() {
    const body = document.querySelector("#doc-table tbody");
    const pages = Math.max(1, Math.ceil(state.rows.length / PAGE_SIZE));
    const start = state.page * PAGE_SIZE;
    const fragment = document.createDocumentFragment();
    state.rows.slice(start, start + PAGE_SIZE).forEach(function (index) {
      const doc = docs[index];
      const row = el("tr", { "data-index": String(index), class: "status-" + doc.status.replace(/[^a-z0-9_-]/gi, "") });
      const name = el("td", { class: "name" });
      name.appendChild(docLink(index));
      row.appendChild(name);
      row.appendChild(el("td", null, doc.status));
      row.appendChild(el("td", null, doc.encoding));
      row.appendChild(el("td", { class: "num" }, number(doc.original)));
      row.appendChild(el("td", { class: "num" }, number(doc.clean)));
      row.appendChild(el("td", { class: "num" }, percent(doc.share)));
      row.appendChild(el("td", { class: "num" }, number(doc.edits)));
      row.appendChild(el("td", { class: "rules" }, doc.rules.map(function (i) { return data.labels[i]; }).join(", ")));
      const note = el("td");
      if (doc.kept !== null && doc.kept !== undefined) {
        note.appendChild(docLink(doc.kept));
        if (doc.similarity !== null && doc.similarity !== undefined) note.appendChild(document.createTextNode(" (" + doc.similarity + ")"));
      } else if (doc.duplicate_of) {
        note.textContent = doc.duplicate_of + " (not in this folder)";
      } else if (doc.error) {
        note.textContent = doc.error;
      } else if (doc.duplicates) {
        note.textContent = "kept; " + doc.duplicates.length + " duplicate(s)";
      }
      row.appendChild(note);
      fragment.appendChild(row);
    });
    body.replaceChildren(fragment);
    document.getElementById("count").textContent =
      state.rows.length.toLocaleString("en") + " of " + docs.length.toLocaleString("en") + " documents";
    document.getElementById("page").textContent = "page " + (state.page + 1) + " of " + pages;
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
    document.querySelectorAll("#doc-table th").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.key === state.key ? (state.dir > 0 ? "ascending" : "descending") : "none");
    });
  }

  document.getElementById("search").addEventListener("input", function (event) {
    state.query = event.target.value;
    state.page = 0;
    refreshRows();
  });
  document.getElementById("prev").addEventListener("click", function () {
    state.page = Math.max(0, state.page - 1);
    renderTable();
  });
  document.getElementById("next").addEventListener("click", function () {
    state.page += 1;
    renderTable();
  });
  document.querySelectorAll("#doc-table th").forEach(function (th) {
    th.tabIndex = 0;
    function sortBy() {
      const key = th.dataset.key;
      state.dir = state.key === key ? -state.dir : (key === "source" || key === "status" || key === "encoding" ? 1 : -1);
      state.key = key;
      refreshRows();
    }
    th.addEventListener("click", sortBy);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sortBy();
      }
    });
  });

  // --- one document ------------------------------------------------------------------------

  const VISIBLE = { " ": "·", "\t": "→", "\r": "␍", "\n": "↵" };
  const INVISIBLE = /[\u0000-\u001f\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff9-\ufffb]/;

  // Same rules as cleankit.diffview.visible: symbols for invisible characters, and a run
  // of 4+ repeats of one or two of them (not LF) shown once with a count.
  const RUN = /((?:[^\S\n]|[\u00ad\u200b-\u200f\u2060\ufeff]){1,2}?)\1{3,}/g;

  function visibleChars(text, breakLines) {
    let out = "";
    for (const ch of text) {
      if (ch === "\n") out += breakLines ? "↵\n" : "↵";
      else if (VISIBLE[ch]) out += VISIBLE[ch];
      else if (INVISIBLE.test(ch)) out += "⟨U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "⟩";
      else out += ch;
    }
    return out;
  }

  function visible(text, breakLines) {
    let out = "";
    let cursor = 0;
    text.replace(RUN, function (match, unit, offset) {
      const shown = visibleChars(unit, breakLines);
      out += visibleChars(text.slice(cursor, offset), breakLines);
      out += (unit.length === 1 ? shown : "(" + shown + ")") + "×" + match.length / unit.length;
      cursor = offset + match.length;
      return match;
    });
    return out + visibleChars(text.slice(cursor), breakLines);
  }

  function unchangedNode(text, collapse) {
    const lines = text.split("\n");
    if (!collapse || lines.length <= 8) return document.createTextNode(text);
    const wrap = el("span", { class: "unchanged" });
    const head = lines.slice(0, 3).join("\n") + "\n";
    const tail = "\n" + lines.slice(-3).join("\n");
    const hidden = lines.slice(3, -3).join("\n");
    wrap.appendChild(document.createTextNode(head));
    const button = el("button", { type: "button", class: "expand" }, "… " + (lines.length - 6) + " unchanged lines …");
    button.addEventListener("click", function () {
      button.replaceWith(document.createTextNode(hidden));
    });
    wrap.appendChild(button);
    wrap.appendChild(document.createTextNode(tail));
    return wrap;
  }

  function pieceNames(piece) {
    return piece[2].map(function (i) { return data.labels[i]; });
  }

  // One change: what was removed, what was inserted, then its label, on the same line. A
  // removed line break shows as ↵ and breaks the line only after the label, so the label
  // stays with what it labels instead of starting the next line in front of kept text.
  function changeNode(piece) {
    const old = piece[0], now = piece[1], labels = piece[2], reason = piece[3], refs = piece[4];
    const names = pieceNames(piece);
    const wrap = el("span", { class: "chg", title: names.join(", ") + (reason ? " — " + reason : "") });
    wrap.dataset.labels = names.join(" ");
    const breaksAfter = old.endsWith("\n");
    const removed = breaksAfter ? old.slice(0, -1) : old;
    if (old) wrap.appendChild(el("del", null, visible(removed, true) + (breaksAfter ? "↵" : "")));
    if (now) wrap.appendChild(el("ins", null, visible(now, false)));
    const stage = data.label_stage[labels[0]];
    wrap.appendChild(el("span", { class: "label stage-" + (stage < 0 ? "x" : stage % data.palette.length) }, names.join(", ")));
    refs.forEach(function (ref) {
      const target = byName.get(ref);
      wrap.appendChild(document.createTextNode(" "));
      wrap.appendChild(target === undefined ? el("span", { class: "ref" }, "kept copy: " + ref) : docLink(target, "kept copy: " + docs[target].source));
    });
    if (breaksAfter) wrap.appendChild(document.createTextNode("\n"));
    return wrap;
  }

  function facts(doc) {
    const list = el("dl", { class: "facts" });
    function add(term, value) {
      const box = el("div");
      box.appendChild(el("dt", null, term));
      const dd = el("dd");
      if (value instanceof Node) dd.appendChild(value);
      else dd.textContent = value;
      box.appendChild(dd);
      list.appendChild(box);
    }
    add("status", doc.status);
    add("id", doc.id);
    add("encoding", doc.encoding);
    if (doc.original !== null) add("characters", number(doc.original) + " → " + number(doc.clean));
    if (doc.share !== null) add("changed or removed", number(doc.removed) + " (" + percent(doc.share) + ")");
    if (doc.error) add("error", doc.error);
    if (doc.duplicate_of) {
      const span = el("span");
      if (doc.kept !== null && doc.kept !== undefined) span.appendChild(docLink(doc.kept));
      else span.textContent = doc.duplicate_of + " (not in this folder)";
      if (doc.similarity !== null && doc.similarity !== undefined) span.appendChild(document.createTextNode(" similarity " + doc.similarity));
      add("duplicate of", span);
    }
    if (doc.duplicates) {
      const span = el("span", { class: "duplicates" });
      doc.duplicates.forEach(function (index, n) {
        if (n) span.appendChild(document.createTextNode(", "));
        span.appendChild(docLink(index));
      });
      add("its duplicates", span);
    }
    Object.keys(doc.metadata).forEach(function (key) {
      const value = doc.metadata[key];
      add("metadata: " + key, typeof value === "string" ? value : JSON.stringify(value));
    });
    return list;
  }

  function renderDocument(index) {
    const view = document.getElementById("doc-view");
    const doc = docs[index];
    if (!doc) {
      view.replaceChildren(el("p", null, "No such document."));
      return;
    }
    const nodes = [nameInto(el("h3", { class: "name" }), doc.source), facts(doc)];
    if (doc.flags.length) {
      const flags = el("ul", { class: "flags" });
      doc.flags.forEach(function (flag) {
        flags.appendChild(el("li", null, flag.stage + "/" + flag.rule + ": " + visible(String(flag.text || ""), false) + (flag.reason ? " — " + flag.reason : "")));
      });
      nodes.push(el("h4", null, "Flagged, not changed"), flags);
    }
    const detail = data.details[String(index)];
    if (!detail) {
      nodes.push(el("p", { class: "note" }, doc.status === "failed"
        ? "This document failed to clean: there is no output to show."
        : "No detailed view in this report (see the sampling note above the table)."));
      view.replaceChildren.apply(view, nodes);
      return;
    }
    if (detail.error) {
      nodes.push(el("p", { class: "note" }, detail.error));
      view.replaceChildren.apply(view, nodes);
      return;
    }
    const controls = el("div", { class: "controls" });
    const collapse = el("input", { type: "checkbox", id: "collapse" });
    collapse.checked = true;
    const collapseLabel = el("label", { for: "collapse" }, " collapse long unchanged runs");
    const layout = el("input", { type: "checkbox", id: "layout" });
    const layoutLabel = el("label", { for: "layout" }, " show layout edits (line breaks only)");
    const mode = el("select", { id: "mode", "aria-label": "view" });
    mode.appendChild(el("option", { value: "changes" }, "original with changes"));
    mode.appendChild(el("option", { value: "clean" }, "clean text"));
    controls.append(collapse, collapseLabel, " ", layout, layoutLabel, " ", mode);
    // Rule chips: each names a stage/rule with its number of changes here; pressing chips
    // shows only the changes of the pressed rules (the others as the original text, as
    // `cleankit diff --rule` does), pressing again shows them all.
    const chosen = new Set();
    const legend = el("ul", { class: "doc-legend" });
    const text = el("div", { class: "text", id: "doc-text" });
    function shown(piece) {
      if (piece[5] && !layout.checked) return false;
      return !chosen.size || pieceNames(piece).some(function (name) { return chosen.has(name); });
    }
    function draw() {
      const counts = new Map();
      const fragment = document.createDocumentFragment();
      detail.pieces.forEach(function (piece) {
        if (typeof piece === "string") {
          fragment.appendChild(unchangedNode(piece, collapse.checked));
          return;
        }
        if (!piece[5] || layout.checked) {
          pieceNames(piece).forEach(function (name) { counts.set(name, (counts.get(name) || 0) + 1); });
        }
        if (mode.value === "clean") fragment.appendChild(document.createTextNode(piece[1]));
        else if (shown(piece)) fragment.appendChild(changeNode(piece));
        // A hidden layout edit reads as the clean layout; a change filtered out by a chip as
        // the original (the change not made).
        else fragment.appendChild(document.createTextNode(piece[5] && !layout.checked ? piece[1] : piece[0]));
      });
      if (detail.truncated) fragment.appendChild(el("p", { class: "note" }, "… shortened here: the report shows the first characters of long documents."));
      text.replaceChildren(fragment);
      legend.replaceChildren();
      counts.forEach(function (count, name) {
        const chip = el("li", { title: data.reasons[name] || "", role: "button", tabindex: "0", "aria-pressed": String(chosen.has(name)) }, name + " × " + count);
        chip.dataset.label = name;
        function toggle() {
          if (chosen.has(name)) chosen.delete(name);
          else chosen.add(name);
          draw();
        }
        chip.addEventListener("click", toggle);
        chip.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            toggle();
          }
        });
        legend.appendChild(chip);
      });
    }
    collapse.addEventListener("change", draw);
    layout.addEventListener("change", function () {
      if (!layout.checked) chosen.clear();
      draw();
    });
    mode.addEventListener("change", draw);
    draw();
    nodes.push(controls, legend, text);
    view.replaceChildren.apply(view, nodes);
  }

  function route() {
    const match = /^#doc=(\d+)$/.exec(window.location.hash);
    if (match) {
      renderDocument(Number(match[1]));
      document.getElementById("document").scrollIntoView();
    }
  }

  document.getElementById("sampling-note").textContent = data.sampling_note;
  window.addEventListener("hashchange", route);
  refreshRows();
  route();
})();
