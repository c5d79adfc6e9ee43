/**
 * The lecture's view of backpropagation for any loss: the computational graph in forward order,
 * each node's formula and value, the gradient ∂J/∂node arriving from above, and for each input the
 * local derivative and the chain-rule product ∂J/∂node · ∂node/∂input sent down that edge.
 */
import { opError } from '../core/errors.js';
import { runBackward, sumTo, topologicalOrder } from '../autograd/backward.js';
import { onesLike } from '../tensor/create.js';
import { noGrad } from '../engine/grad-mode.js';
import type { TapeNode, Vjp } from '../ops/define.js';
import type { Tensor } from '../tensor/tensor.js';
import { graph as drawGraph } from '../viz/graph.js';
import { describeValue, formatNumber } from '../viz/format.js';
import { svgToPng, type PngOptions } from '../viz/render.js';
import { NOTATION } from '../viz/notation.js';

export interface ExplainOptions {
  /** Names for tensors, as the lecture writes them: { w, x, b, y, q, 'ŷ': yHat, z, J }. */
  names?: Record<string, Tensor>;
}

export interface EdgeStep {
  /** The input's name. */
  input: string;
  /** ∂node/∂input as a formula (the local derivative). */
  localRule: string;
  /** Its value, when node and input are scalars. */
  local: number | null;
  /** ∂J/∂node · ∂node/∂input: what this edge sends down to the input. */
  contribution: Tensor | null;
}

export interface NodeStep {
  name: string;
  op: string;
  /** `name = formula`, e.g. `ŷ = q + b`. */
  formula: string;
  value: Tensor;
  /** ∂J/∂node, null where no gradient flows. */
  grad: Tensor | null;
  inputs: EdgeStep[];
}

export interface Explanation {
  loss: string;
  /** Op nodes in forward (topological) order. */
  nodes: NodeStep[];
  /** The graph's inputs (leaves) with their values and ∂J/∂leaf. */
  leaves: { name: string; value: Tensor; grad: Tensor | null }[];
  text(): string;
  markdown(): string;
  svg(): Promise<string>;
  png(options?: PngOptions): Promise<Uint8Array>;
}

/**
 * Explains how backpropagation computes the gradients of `loss` (a one-element tensor built from
 * tensors that require grad).
 *
 * @example
 * console.log(nb.explain(J, { names: { w, x, b, y, q, 'ŷ': yHat, z, J } }).text());
 */
export function explain(loss: Tensor, { names = {} }: ExplainOptions = {}): Explanation {
  if (!loss.gradFn)
    throw opError('explain', 'the loss has no graph: build it from tensors with requiresGrad');
  if (loss.size !== 1)
    throw opError(
      'explain',
      `the loss must have one element, it has shape [${loss.shape.join(', ')}]`,
    );
  const nodes: TapeNode[] = topologicalOrder([loss.gradFn]).reverse();
  const given = new Map<Tensor, string>(Object.entries(names).map(([name, t]) => [t, name]));
  let counter = 0;
  const nameOf = (t: Tensor): string => {
    if (!given.has(t))
      given.set(t, t === loss ? 'J' : t.gradFn ? `h${++counter}` : `in${++counter}`);
    return given.get(t)!;
  };
  const leaves = [...new Set(nodes.flatMap((n) => n.inputs.filter((t) => !t.gradFn)))];
  nodes.forEach((n) => nameOf(n.output));
  leaves.forEach(nameOf);
  const lossName = nameOf(loss);

  // It needs only the values of the graph, which outlive backward() unless the engine freed them.
  const freed = [...nodes.flatMap((n) => [...n.inputs, n.output])].find((t) => t.isDisposed);
  if (freed)
    throw opError(
      'explain',
      `the value of ${nameOf(freed)} (shape [${freed.shape.join(', ')}]) was freed by backward(), as activations inside nn modules are; call nb.explain(loss) before backward(), or keep it with loss.backward({ retainGraph: true })`,
    );
  const differentiable = [...nodes.map((n) => n.output), ...leaves].filter((t) => t.requiresGrad);
  const results = runBackward(
    [loss],
    [onesLike(loss)],
    { retainGraph: true, revisit: true },
    differentiable,
  );
  const grads = new Map<Tensor, Tensor>();
  for (const t of differentiable) {
    const g = results.get(t);
    if (g) grads.set(t, g);
  }

  const steps = nodes.map((node): NodeStep => {
    const args = node.inputs.map(nameOf);
    const out = nameOf(node.output);
    const notation = NOTATION[node.name];
    const dy = grads.get(node.output) ?? null;
    const sent = dy
      ? noGrad(() =>
          (node.op.vjp as Vjp)(
            { name: node.name, inputs: node.inputs, output: node.output, attrs: node.attrs },
            dy,
          ),
        )
      : [];
    const inputs = node.inputs.map((input, i): EdgeStep => {
      const g = sent[i];
      const contribution = g && input.requiresGrad ? noGrad(() => sumTo(g, input.shape)) : null;
      const scalar =
        contribution && dy && dy.size === 1 && contribution.size === 1 && dy.item() !== 0;
      return {
        input: args[i]!,
        localRule: notation ? notation.local(i, args, out) : `(vjp of ${node.name})`,
        local: scalar ? contribution!.item() / dy!.item() : null,
        contribution,
      };
    });
    const formula = `${out} = ${notation ? notation.formula(args) : `${node.name}(${args.join(', ')})`}`;
    return { name: out, op: node.name, formula, value: node.output, grad: dy, inputs };
  });
  const leafSteps = leaves.map((t) => ({ name: nameOf(t), value: t, grad: grads.get(t) ?? null }));
  const explanation: Explanation = {
    loss: lossName,
    nodes: steps,
    leaves: leafSteps,
    text: () => renderText(explanation),
    markdown: () => renderMarkdown(explanation),
    svg: () =>
      drawGraph(loss, {
        names: Object.fromEntries([...given].map(([t, n]) => [n, t])),
        values: true,
        grads,
        title: `∂${lossName}/∂· by backpropagation`,
      }).svg(),
    png: async (options) => svgToPng(await explanation.svg(), options),
  };
  return explanation;
}

const value = (t: Tensor | null): string => (t ? describeValue(t) : '—');

function edgeText(e: EdgeStep, node: NodeStep, loss: string): string {
  if (!e.contribution) return `    → ${e.input}: (no gradient needed)`;
  const local = `∂${node.name}/∂${e.input} = ${e.localRule}${e.local !== null && e.localRule !== formatNumber(e.local) ? ` = ${formatNumber(e.local)}` : ''}`;
  const product = e.local !== null ? `${value(node.grad)} · ${formatNumber(e.local)} = ` : '';
  return `    → ${e.input}: ${local};  ∂${loss}/∂${node.name} · ∂${node.name}/∂${e.input} = ${product}${value(e.contribution)}`;
}

function renderText(x: Explanation): string {
  const lines = [
    `Backpropagation of ${x.loss}: forward values, then gradients flowing back by the chain rule.`,
    '',
  ];
  for (const node of x.nodes) {
    lines.push(`${node.formula}    = ${value(node.value)}`);
    lines.push(`    ∂${x.loss}/∂${node.name} = ${value(node.grad)}`);
    for (const e of node.inputs) lines.push(edgeText(e, node, x.loss));
  }
  lines.push('', 'Inputs:');
  for (const leaf of x.leaves) {
    lines.push(
      `    ${leaf.name} = ${value(leaf.value)}${leaf.grad ? `    ∂${x.loss}/∂${leaf.name} = ${value(leaf.grad)}` : '    (constant)'}`,
    );
  }
  return lines.join('\n');
}

function renderMarkdown(x: Explanation): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `| node | value | ∂${x.loss}/∂node | sends to inputs (local derivative → ∂${x.loss}/∂input) |`,
    '|---|---|---|---|',
  ];
  for (const node of x.nodes) {
    const sends = node.inputs
      .filter((e) => e.contribution)
      .map(
        (e) => `${e.input}: ∂${node.name}/∂${e.input} = ${e.localRule} → ${value(e.contribution)}`,
      )
      .join('<br>');
    lines.push(
      `| \`${cell(node.formula)}\` | ${cell(value(node.value))} | ${cell(value(node.grad))} | ${cell(sends)} |`,
    );
  }
  for (const leaf of x.leaves) {
    lines.push(
      `| \`${cell(leaf.name)}\` (input) | ${cell(value(leaf.value))} | ${cell(value(leaf.grad))} | |`,
    );
  }
  return lines.join('\n');
}
