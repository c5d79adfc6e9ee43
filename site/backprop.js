/**
 * Page (a): a loss as a graph, stepped forward (values) and backward (gradients) node by node,
 * from nb.explain's data; then an SGD step on the parameters. `#run` in the address runs every
 * step at load (how the tests and screenshots see the finished page); `#program=…` sets the
 * formula.
 */
import * as nb from 'nabla';
import { evaluate, parseProgram, ParseError } from './expression.js';

const LECTURE = `q = w*x
ŷ = q + b
z = y - ŷ
J = z^2`;
/** The lecture's values; other inputs start at 1. Names starting with w or b are parameters. */
const DEFAULTS = { w: 3, x: 2, b: 4, y: 5 };
const isParameter = (name) => /^[wb]/.test(name);
/** Pixels from one layer of the graph to the next: a box and room for an edge's label. */
const COLUMN = 270;

const $ = (id) => document.getElementById(id);
const state = { program: null, values: new Map(), explanation: null, forward: 0, backward: 0 };

const show = (v) => {
  const text = Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, '');
  return text.replace('-', '−');
};
const scalarOf = (t) => (t && t.size === 1 ? t.item() : null);

function message(text) {
  $('message').textContent = text;
}

/** Parses the program and lists its inputs with their values. */
function build() {
  try {
    state.program = parseProgram($('program').value);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    message(error.message);
    return;
  }
  message('');
  const inputs = $('inputs');
  inputs.textContent = '';
  for (const name of state.program.inputs) {
    if (!state.values.has(name)) state.values.set(name, DEFAULTS[name] ?? 1);
    const label = document.createElement('label');
    label.textContent = `${name} ${isParameter(name) ? '(parameter)' : '(data)'} `;
    const field = document.createElement('input');
    field.type = 'number';
    field.step = 'any';
    field.value = String(state.values.get(name));
    field.addEventListener('change', () => {
      state.values.set(name, Number(field.value));
      compute();
    });
    label.append(field);
    inputs.append(label);
  }
  compute();
}

/** Builds the tensors, runs nabla's explanation, and resets the stepping. */
function compute() {
  const env = new Map();
  const names = {};
  for (const name of state.program.inputs) {
    const value = state.values.get(name);
    const t = nb.tensor(value, isParameter(name) ? { requiresGrad: true } : {});
    env.set(name, t);
    names[name] = t;
  }
  let loss;
  try {
    for (const { name, tree } of state.program.lines) {
      const t = evaluate(nb, tree, env);
      env.set(name, t);
      names[name] = t;
      loss = t;
    }
    if (!state.program.inputs.some(isParameter))
      throw new Error('name at least one parameter (a name starting with w or b) to differentiate');
    state.explanation = nb.explain(loss, { names });
  } catch (error) {
    message(error.message);
    state.explanation = null;
    render();
    return;
  }
  if (!Number.isFinite(loss.item())) message(`the loss is ${loss.item()}: lower α, or press Reset`);
  else message('');
  state.loss = state.program.lines.at(-1).name;
  state.forward = 0;
  state.backward = 0;
  render();
}

/** Leaves then op nodes in forward order; backward visits the op nodes in reverse, then leaves. */
function order() {
  const e = state.explanation;
  return { forward: [...e.leaves, ...e.nodes], backward: [...e.nodes].reverse() };
}

function render() {
  const graph = $('graph');
  graph.textContent = '';
  $('trace').textContent = '';
  const e = state.explanation;
  if (!e) return;
  const { forward, backward } = order();
  const shownValue = new Set(forward.slice(0, state.forward).map((n) => n.name));
  const shownGrad = new Set(backward.slice(0, state.backward).map((n) => n.name));
  const gradsDone = state.backward === backward.length;
  const current =
    state.backward > 0 ? backward[state.backward - 1]?.name : forward[state.forward - 1]?.name;

  // Layers: leaves at 0, each node one past its deepest input.
  const depth = new Map(e.leaves.map((l) => [l.name, 0]));
  for (const n of e.nodes)
    depth.set(n.name, 1 + Math.max(...n.inputs.map((i) => depth.get(i.input))));
  const columns = new Map();
  const position = new Map();
  for (const n of forward) {
    const d = depth.get(n.name);
    const row = columns.get(d) ?? 0;
    columns.set(d, row + 1);
    position.set(n.name, { x: 20 + d * COLUMN, y: 20 + row * 110 });
  }
  const width = 20 + (Math.max(...depth.values()) + 1) * COLUMN;
  const height = 20 + Math.max(...columns.values()) * 110;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}">`];
  const [w, h] = [170, 78];
  for (const n of e.nodes) {
    const to = position.get(n.name);
    for (const edge of n.inputs) {
      const from = position.get(edge.input);
      const [x1, y1, x2, y2] = [from.x + w, from.y + h / 2, to.x, to.y + h / 2];
      svg.push(
        `<path class="edge" d="M${x1},${y1} C${x1 + 25},${y1} ${x2 - 25},${y2} ${x2},${y2}"/>`,
      );
      if (shownGrad.has(n.name) && edge.contribution) {
        const label = `×${edge.localRule} → ${show(scalarOf(edge.contribution) ?? NaN)}`;
        svg.push(
          `<text class="edge-label" x="${(x1 + x2) / 2 - 30}" y="${(y1 + y2) / 2 - 4}">${escape(label)}</text>`,
        );
      }
    }
  }
  const leafGrads = gradsDone ? new Set(e.leaves.map((l) => l.name)) : new Set();
  for (const n of forward) {
    const { x, y } = position.get(n.name);
    const isLeaf = !('formula' in n);
    const lines = [isLeaf ? n.name : n.formula];
    const value = scalarOf(n.value);
    lines.push(shownValue.has(n.name) ? `= ${show(value ?? NaN)}` : '= ?');
    const grad = scalarOf(n.grad);
    const gradShown = isLeaf ? leafGrads.has(n.name) : shownGrad.has(n.name);
    lines.push(
      gradShown ? (grad === null ? 'constant' : `∂${state.loss}/∂${n.name} = ${show(grad)}`) : '',
    );
    svg.push(
      `<g class="node${isLeaf ? ' leaf' : ''}${n.name === current ? ' current' : ''}" data-name="${escape(n.name)}">`,
      `<rect x="${x}" y="${y}" width="${w}" height="${h}"/>`,
      `<text x="${x + 8}" y="${y + 20}">${escape(lines[0])}</text>`,
      `<text class="value" x="${x + 8}" y="${y + 42}" data-role="value">${escape(lines[1])}</text>`,
      `<text class="grad" x="${x + 8}" y="${y + 64}" data-role="grad">${escape(lines[2])}</text>`,
      '</g>',
    );
  }
  svg.push('</svg>');
  graph.innerHTML = svg.join('');
  if (gradsDone) $('trace').textContent = e.text();
}

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function step(kind) {
  if (!state.explanation) return;
  const { forward, backward } = order();
  if (kind === 'forward' && state.forward < forward.length) state.forward++;
  else if (kind === 'backward') {
    if (state.forward < forward.length) return message('run forward to the loss first');
    if (state.backward < backward.length) state.backward++;
  }
  message('');
  render();
}

function runAll() {
  if (!state.explanation) return;
  const { forward, backward } = order();
  state.forward = forward.length;
  state.backward = backward.length;
  render();
}

/** w ← w − α·∂J/∂w for every parameter, then a fresh forward pass. */
function sgd() {
  if (!state.explanation) return;
  const alpha = Number($('alpha').value);
  for (const leaf of state.explanation.leaves) {
    const grad = scalarOf(leaf.grad);
    if (grad !== null) state.values.set(leaf.name, state.values.get(leaf.name) - alpha * grad);
  }
  build();
}

function footer() {
  $('footer').textContent =
    `Runs on: ${nb.deviceInfo()} (cross-origin isolated: ${globalThis.crossOriginIsolated ? 'yes' : 'no'}).`;
}

// A link may carry its own program: backprop.html#program=sigmoid(w*x%2Bb)
const linked = /^#program=(.*)$/.exec(location.hash);
$('program').value = linked ? decodeURIComponent(linked[1]) : LECTURE;
$('build').addEventListener('click', build);
$('forward').addEventListener('click', () => step('forward'));
$('backward').addEventListener('click', () => step('backward'));
$('all').addEventListener('click', runAll);
$('reset').addEventListener('click', () => {
  state.values.clear();
  build();
});
$('sgd').addEventListener('click', sgd);
footer();
build();
if (location.hash === '#run') runAll();
document.body.dataset.ready = 'true';
