// The rule builder of Settings → Automation. Each JSON box of the form (conditions, actions)
// becomes rows of selects and inputs: a condition is field, operator (those the field's kind
// takes) and a value input that fits both; an action is its type and the input its value
// needs. Every change writes the JSON back into the box, which is what the form submits. The
// box stays the form when script is off, when the JSON cannot be read, or when it holds
// something the rows cannot show (then nothing is rewritten, so nothing is lost).
(function () {
  "use strict";

  var config = null;
  var LIST_OPS = ["in", "not_in", "contains", "not_contains", "includes", "excludes"];
  var NUMBER_OPS = ["gt", "gte", "lt", "lte"];
  var counter = 0;

  function text(key) { return (config.text && config.text[key]) || key; }
  function has(list, item) { return list.indexOf(item) >= 0; }
  function nextId(prefix) { counter += 1; return "rb-" + prefix + "-" + counter; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: String(value), text: label });
    node.selected = !!selected;
    return node;
  }

  // A select over [[value, label], …]; read() gives back the value with its own type (team
  // ids stay numbers, statuses strings). A value missing from the list (a deleted team) is
  // kept as an extra option rather than dropped.
  function choiceSelect(choices, current, attrs, multiple) {
    var wanted = multiple ? (Array.isArray(current) ? current : []) : [current];
    var select = el("select", Object.assign({ multiple: !!multiple }, attrs || {}));
    var known = choices.map(function (c) { return String(c[0]); });
    choices.forEach(function (c) {
      select.appendChild(option(c[0], c[1], wanted.some(function (w) { return String(w) === String(c[0]); })));
    });
    wanted.forEach(function (w) {
      if (w !== null && w !== undefined && w !== "" && !has(known, String(w))) {
        select.appendChild(option(w, String(w), true));
        choices = choices.concat([[w, String(w)]]);
      }
    });
    function typed(raw) {
      var found = choices.filter(function (c) { return String(c[0]) === raw; })[0];
      return found ? found[0] : raw;
    }
    return {
      node: select,
      read: function () {
        if (multiple) {
          return Array.prototype.filter.call(select.options, function (o) { return o.selected; })
            .map(function (o) { return typed(o.value); });
        }
        return typed(select.value);
      }
    };
  }

  function listInput(current, numeric, attrs) {
    var shown = Array.isArray(current) ? current.join(", ") : (current === null || current === undefined ? "" : String(current));
    var input = el("input", Object.assign({ type: "text", value: shown, placeholder: text("list_help") }, attrs || {}));
    return {
      node: input,
      read: function () {
        return input.value.split(",").map(function (part) { return part.trim(); })
          .filter(function (part) { return part; })
          .map(function (part) { return numeric && !isNaN(Number(part)) ? Number(part) : part; });
      }
    };
  }

  function scalarInput(current, numeric, attrs) {
    var input = el("input", Object.assign({
      type: numeric ? "number" : "text", step: numeric ? "any" : null,
      value: current === null || current === undefined ? "" : String(current)
    }, attrs || {}));
    return {
      node: input,
      read: function () {
        if (!numeric) { return input.value; }
        return input.value === "" ? null : Number(input.value);
      }
    };
  }

  // --- conditions -------------------------------------------------------------------------

  function fieldDef(name) {
    var found = config.fields.filter(function (f) { return f.value === name; })[0];
    if (found) { return { key: found.value, kind: found.kind, choices: found.choices, dynamic: "" }; }
    var prefix = config.dynamic.filter(function (d) { return name.indexOf(d.prefix) === 0; })[0];
    if (prefix) { return { key: prefix.prefix, kind: "any", choices: "", dynamic: name.slice(prefix.prefix.length) }; }
    return null;
  }

  // The value input for a field and operator, or null when the operator takes none.
  function conditionValue(def, op, value) {
    if (has(config.no_value, op)) { return null; }
    var attrs = { "aria-label": text("value") };
    var choices = def.choices ? config.choices[def.choices] : null;
    var numeric = def.kind === "number" || def.kind === "id" || (def.kind === "any" && has(NUMBER_OPS, op));
    if (def.kind === "bool") { return choiceSelect(config.choices.booleans, value === undefined ? true : value, attrs); }
    if (choices && (op === "in" || op === "not_in")) { return choiceSelect(choices, value, attrs, true); }
    if (choices && !has(LIST_OPS, op)) { return choiceSelect(choices, value === undefined || value === null ? choices[0][0] : value, attrs); }
    if (has(LIST_OPS, op)) { return listInput(value, def.kind === "number" || def.kind === "id", attrs); }
    return scalarInput(value, numeric, attrs);
  }

  function canShowCondition(item) {
    if (!item || typeof item !== "object" || Array.isArray(item)) { return false; }
    if (Object.keys(item).some(function (k) { return !has(["field", "op", "value"], k); })) { return false; }
    var def = typeof item.field === "string" ? fieldDef(item.field) : null;
    if (!def) { return false; }
    var ops = (config.operators[def.kind] || []).map(function (o) { return o[0]; });
    if (!has(ops, item.op)) { return false; }
    var value = item.value;
    return value === null || value === undefined || typeof value !== "object" || Array.isArray(value);
  }

  function isDynamicKey(key) { return config.dynamic.some(function (d) { return d.prefix === key; }); }

  // Keep what was typed when the operator changes between one value and a list of them.
  function carried(value, op) {
    if (value === undefined || value === null || value === "") { return undefined; }
    if (has(LIST_OPS, op)) { return Array.isArray(value) ? value : [value]; }
    return Array.isArray(value) ? value[0] : value;
  }

  function conditionRow(item, onChange) {
    var def = fieldDef(item.field || config.fields[0].value);
    var row = el("li", { "class": "rb-row" });
    var fieldSelect = el("select", { "aria-label": text("field") });
    config.fields.forEach(function (f) { fieldSelect.appendChild(option(f.value, f.label, f.value === def.key)); });
    config.dynamic.forEach(function (d) { fieldSelect.appendChild(option(d.prefix, d.label, d.prefix === def.key)); });
    var nameInput = el("input", { type: "text", "aria-label": text("name"), placeholder: text("name"), value: def.dynamic || "", "class": "rb-name" });
    var opSelect = el("select", { "aria-label": text("operator") });
    var slot = el("span", { "class": "rb-value" });
    var remove = el("button", { type: "button", "class": "btn btn-secondary btn-small", text: text("remove") });
    var widget = null;

    function currentDef() {
      var chosen = fieldSelect.value;
      return isDynamicKey(chosen) ? { key: chosen, kind: "any", choices: "", dynamic: nameInput.value.trim() }
        : fieldDef(chosen);
    }
    function fillOperators(keep) {
      var ops = config.operators[currentDef().kind] || [];
      opSelect.textContent = "";
      ops.forEach(function (o) { opSelect.appendChild(option(o[0], o[1], o[0] === keep)); });
    }
    function fillValue(value) {
      slot.textContent = "";
      widget = conditionValue(currentDef(), opSelect.value, value);
      if (widget) { slot.appendChild(widget.node); }
    }
    fieldSelect.addEventListener("change", function () {
      nameInput.hidden = !isDynamicKey(fieldSelect.value);
      fillOperators(opSelect.value);
      fillValue(undefined);
      onChange();
    });
    opSelect.addEventListener("change", function () {
      fillValue(carried(widget ? widget.read() : undefined, opSelect.value));
      onChange();
    });
    remove.addEventListener("click", function () { row.remove(); onChange(); });

    nameInput.hidden = !isDynamicKey(def.key);
    fillOperators(item.op);
    fillValue(item.value);
    row.appendChild(fieldSelect);
    row.appendChild(nameInput);
    row.appendChild(opSelect);
    row.appendChild(slot);
    row.appendChild(remove);
    row.readCondition = function () {
      var d = currentDef();
      var condition = { field: isDynamicKey(d.key) ? d.key + d.dynamic : d.key, op: opSelect.value };
      if (widget) { condition.value = widget.read(); }
      return condition;
    };
    return row;
  }

  function conditionsBuilder(container, data, onChange) {
    var groups = {};
    ["all", "any"].forEach(function (name) {
      var list = el("ol", { "class": "rb-rows" });
      var add = el("button", { type: "button", "class": "btn btn-secondary btn-small", text: text("add_condition") });
      add.addEventListener("click", function () {
        var row = conditionRow({}, onChange);
        list.appendChild(row);
        onChange();
        row.querySelector("select").focus();
      });
      (data[name] || []).forEach(function (item) { list.appendChild(conditionRow(item, onChange)); });
      container.appendChild(el("fieldset", { "class": "rb-group" }, [el("legend", { text: text(name) }), list, add]));
      groups[name] = list;
    });
    return function read() {
      var value = {};
      Object.keys(groups).forEach(function (name) {
        value[name] = Array.prototype.map.call(groups[name].children, function (row) { return row.readCondition(); });
      });
      return value;
    };
  }

  function canShowConditions(data) {
    if (!data || typeof data !== "object" || Array.isArray(data)) { return false; }
    if (Object.keys(data).some(function (k) { return k !== "all" && k !== "any"; })) { return false; }
    return ["all", "any"].every(function (name) {
      var items = data[name] === undefined ? [] : data[name];
      return Array.isArray(items) && items.every(canShowCondition);
    });
  }

  // --- actions ----------------------------------------------------------------------------

  function actionDef(type) { return config.actions.filter(function (a) { return a.value === type; })[0] || null; }

  function labelled(labelText, control) {
    var id = nextId("input");
    control.setAttribute("id", id);
    return el("span", { "class": "rb-labelled" }, [el("label", { "for": id, text: labelText }), control]);
  }

  function bodies(value) {
    var given = typeof value === "string" ? { es: value } : (value || {});
    var es = el("textarea", { rows: "4", lang: "es" });
    var en = el("textarea", { rows: "4", lang: "en" });
    es.value = given.es || "";
    en.value = given.en || "";
    return {
      node: el("span", { "class": "rb-bodies" }, [labelled(text("spanish"), es), labelled(text("english"), en)]),
      read: function () {
        var out = {};
        if (es.value.trim()) { out.es = es.value; }
        if (en.value.trim()) { out.en = en.value; }
        return out;
      }
    };
  }

  function notifyInput(value) {
    value = value || {};
    var people = Array.isArray(value.to);
    var to = choiceSelect(config.choices.notify, people ? "people" : (value.to || "assignee"), { "aria-label": text("to") });
    var who = choiceSelect(config.choices.agents, people ? value.to : [], { "aria-label": text("to") }, true);
    var message = el("textarea", { rows: "3" });
    message.value = typeof value.text === "string" ? value.text : "";
    who.node.hidden = !people;
    to.node.addEventListener("change", function () { who.node.hidden = to.read() !== "people"; });
    return {
      node: el("span", { "class": "rb-notify" }, [labelled(text("to"), to.node), who.node, labelled(text("message"), message)]),
      read: function () {
        var target = to.read();
        return { to: target === "people" ? who.read() : target, text: message.value };
      }
    };
  }

  function actionValue(def, value) {
    var attrs = { "aria-label": text("value") };
    var choices = config.choices;
    switch (def.input) {
      case "none": return null;
      case "agent": {
        var agent = choiceSelect([["auto", text("auto")], ["none", text("nobody")]].concat(choices.agents),
          value === null ? "none" : (value === undefined ? "auto" : value), attrs);
        return { node: agent.node, read: function () { var v = agent.read(); return v === "none" ? null : v; } };
      }
      case "team": {
        var team = choiceSelect([["none", text("no_team")]].concat(choices.teams), value === null || value === undefined ? "none" : value, attrs);
        return { node: team.node, read: function () { var v = team.read(); return v === "none" ? null : v; } };
      }
      case "tier": return choiceSelect(choices.tiers, value || 2, attrs);
      case "priority": return choiceSelect(choices.priorities, value || 3, attrs);
      case "status": return choiceSelect(choices.statuses, value || "solved", attrs);
      case "tags": return listInput(value, false, attrs);
      case "webhook":
        if (!choices.webhooks.length) {
          return { node: el("span", { "class": "muted", text: text("no_webhooks") }), read: function () { return value === undefined ? null : value; } };
        }
        return choiceSelect(choices.webhooks, value === undefined || value === null ? choices.webhooks[0][0] : value, attrs);
      case "field": {
        var given = value || {};
        var name = el("input", { type: "text", value: given.name || "" });
        var fieldValue = el("input", { type: "text", value: given.value === null || given.value === undefined ? "" : String(given.value) });
        return {
          node: el("span", { "class": "rb-pair" }, [labelled(text("field_name"), name), labelled(text("field_value"), fieldValue)]),
          read: function () { return { name: name.value.trim(), value: fieldValue.value }; }
        };
      }
      case "bodies": return bodies(value);
      case "notify": return notifyInput(value);
      default: return null;
    }
  }

  function canShowAction(item) {
    if (!item || typeof item !== "object" || Array.isArray(item)) { return false; }
    if (Object.keys(item).some(function (k) { return k !== "type" && k !== "value"; })) { return false; }
    var def = actionDef(item.type);
    if (!def || def.input === "json") { return false; }
    var value = item.value;
    if (def.input === "bodies") {
      if (value === undefined || value === null || typeof value === "string") { return true; }
      return typeof value === "object" && !Array.isArray(value) && Object.keys(value).every(function (k) {
        return (k === "es" || k === "en") && typeof value[k] === "string";
      });
    }
    if (def.input === "notify") {
      return !value || (typeof value === "object" && Object.keys(value).every(function (k) { return k === "to" || k === "text"; }) &&
        (Array.isArray(value.to) || typeof value.to === "string" || value.to === undefined));
    }
    if (def.input === "field") {
      return !value || (typeof value === "object" && Object.keys(value).every(function (k) { return k === "name" || k === "value"; }) &&
        (value.value === null || value.value === undefined || typeof value.value !== "object"));
    }
    if (def.input === "tags") { return value === undefined || value === null || Array.isArray(value); }
    return value === null || value === undefined || typeof value !== "object";
  }

  function actionRow(item, onChange) {
    var row = el("li", { "class": "rb-row" });
    var typeSelect = el("select", { "aria-label": text("action") });
    var chosen = actionDef(item.type) || config.actions[0];
    config.actions.forEach(function (a) { typeSelect.appendChild(option(a.value, a.label, a.value === chosen.value)); });
    var slot = el("span", { "class": "rb-value" });
    var remove = el("button", { type: "button", "class": "btn btn-secondary btn-small", text: text("remove") });
    var widget = null;
    function fill(value) {
      slot.textContent = "";
      widget = actionValue(actionDef(typeSelect.value), value);
      if (widget) { slot.appendChild(widget.node); }
    }
    typeSelect.addEventListener("change", function () { fill(undefined); onChange(); });
    remove.addEventListener("click", function () { row.remove(); onChange(); });
    fill(item.value);
    row.appendChild(typeSelect);
    row.appendChild(slot);
    row.appendChild(remove);
    row.readAction = function () {
      var action = { type: typeSelect.value };
      action.value = widget ? widget.read() : null;
      return action;
    };
    return row;
  }

  function actionsBuilder(container, data, onChange) {
    var list = el("ol", { "class": "rb-rows" });
    var add = el("button", { type: "button", "class": "btn btn-secondary btn-small", text: text("add_action") });
    add.addEventListener("click", function () {
      var row = actionRow({}, onChange);
      list.appendChild(row);
      onChange();
      row.querySelector("select").focus();
    });
    data.forEach(function (item) { list.appendChild(actionRow(item, onChange)); });
    container.appendChild(list);
    container.appendChild(add);
    return function read() {
      return Array.prototype.map.call(list.children, function (row) { return row.readAction(); });
    };
  }

  // --- one JSON box -----------------------------------------------------------------------

  function parse(box, part) {
    var raw = box.value.trim();
    var data;
    if (!raw) { return part === "conditions" ? { all: [], any: [] } : []; }
    try { data = JSON.parse(raw); } catch (e) { return undefined; }
    if (part === "conditions") {
      if (data === null) { return { all: [], any: [] }; }
      return canShowConditions(data) ? data : undefined;
    }
    return Array.isArray(data) && data.every(canShowAction) ? data : undefined;
  }

  function setUp(builder) {
    var part = builder.getAttribute("data-rule-builder");
    var box = document.getElementById(builder.getAttribute("data-for"));
    var jsonPart = builder.parentNode.querySelector("[data-json-for]");
    if (!box || !jsonPart) { return; }
    var read = null;
    var note = el("p", { "class": "helptext rb-note", text: text("cannot_build"), hidden: true });
    var toJson = el("button", { type: "button", "class": "link-button rb-toggle", text: text("show_json") });
    var toRows = el("button", { type: "button", "class": "link-button rb-toggle", text: text("show_builder") });
    jsonPart.appendChild(toRows);
    jsonPart.parentNode.insertBefore(note, jsonPart);

    function write() { if (read) { box.value = JSON.stringify(read(), null, 2); } }

    function showRows() {
      var data = parse(box, part);
      if (data === undefined) {
        note.hidden = false;
        builder.hidden = true;
        jsonPart.hidden = false;
        toRows.hidden = false;
        return false;
      }
      builder.textContent = "";
      read = part === "conditions" ? conditionsBuilder(builder, data, write) : actionsBuilder(builder, data, write);
      builder.appendChild(toJson);
      note.hidden = true;
      builder.hidden = false;
      jsonPart.hidden = true;
      return true;
    }

    toJson.addEventListener("click", function () {
      write();
      read = null;
      builder.hidden = true;
      jsonPart.hidden = false;
      toRows.hidden = false;
      box.focus();
    });
    toRows.addEventListener("click", function () { if (showRows()) { builder.querySelector("select, button").focus(); } });
    builder.addEventListener("input", write);
    builder.addEventListener("change", write);
    if (box.form) { box.form.addEventListener("submit", write); }
    showRows();
  }

  function start() {
    var source = document.getElementById("rule-builder-config");
    if (!source) { return; }
    config = JSON.parse(source.textContent);
    Array.prototype.forEach.call(document.querySelectorAll("[data-rule-builder]"), setUp);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
