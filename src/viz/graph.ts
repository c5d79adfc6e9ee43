/** The computational graph of an eager result or a tf1 Graph, as DOT / SVG / PNG. */
import { displayShape } from '../core/errors.js';
import { topologicalOrder } from '../autograd/backward.js';
import { Graph } from '../graph/graph.js';
import type { TapeNode } from '../ops/define.js';
import type { Tensor } from '../tensor/tensor.js';
import { dotToSvg, svgToPng, type PngOptions } from './render.js';
import { describeValue } from './format.js';
import { NOTATION } from './notation.js';

export interface GraphOptions {
  /** Display names for tensors (leaves or intermediate results). */
  names?: Record<string, Tensor>;
  /** Show each tensor's value on its node (eager results). */
  values?: boolean;
  /** Gradients to show on the nodes, e.g. from nb.grad. */
  grads?: Map<Tensor, Tensor>;
  title?: string;
}

export interface GraphPicture {
  readonly dot: string;
  svg(): Promise<string>;
  png(options?: PngOptions): Promise<Uint8Array>;
}

const shapeOf = (t: Tensor): string => displayShape(t.shape);

/**
 * Draws the graph that produced `root` (an eager tensor with a gradFn) or a tf1 Graph: ops as
 * boxes, inputs as ellipses, edges labelled with shapes; optionally values and gradients.
 *
 * @example await writeFile('graph.svg', await nb.viz.graph(loss, { values: true }).svg());
 */
export function graph(root: Tensor | Graph, options: GraphOptions = {}): GraphPicture {
  const dot = root instanceof Graph ? root.toDot() : eagerDot(root, options);
  return { dot, svg: () => dotToSvg(dot), png: async (o) => svgToPng(await dotToSvg(dot), o) };
}

function eagerDot(
  root: Tensor,
  { names = {}, values = false, grads, title }: GraphOptions,
): string {
  const nodes: TapeNode[] = root.gradFn ? topologicalOrder([root.gradFn]).reverse() : [];
  const nameOf = new Map<Tensor, string>(Object.entries(names).map(([n, t]) => [t, n]));
  const ids = new Map<Tensor, string>();
  const id = (t: Tensor): string => {
    if (!ids.has(t)) ids.set(t, `t${ids.size}`);
    return ids.get(t)!;
  };
  const label = (t: Tensor, head: string): string => {
    const lines = [head];
    if (values && !t.isSymbolic) lines.push(`= ${describeValue(t)}`);
    const g = grads?.get(t);
    if (g) lines.push(`grad ${describeValue(g)}`);
    return JSON.stringify(lines.join('\n'));
  };
  const lines = [
    'digraph G {',
    '  rankdir=LR;',
    '  node [fontname="DejaVu Sans", fontsize=11];',
    '  edge [fontname="DejaVu Sans", fontsize=9];',
  ];
  if (title) lines.push(`  label=${JSON.stringify(title)}; labelloc=t;`);
  const declared = new Set<Tensor>();
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (!input.gradFn && !declared.has(input)) {
        declared.add(input);
        lines.push(
          `  ${id(input)} [shape=ellipse, label=${label(input, nameOf.get(input) ?? shapeOf(input))}];`,
        );
      }
    }
    const notation = NOTATION[node.name];
    const args = node.inputs.map((t) => nameOf.get(t));
    const formula =
      notation && args.every(Boolean) ? notation.formula(args as string[]) : node.name;
    const head = nameOf.has(node.output) ? `${nameOf.get(node.output)} = ${formula}` : formula;
    lines.push(
      `  ${id(node.output)} [shape=box, style=rounded, label=${label(node.output, head)}];`,
    );
    for (const input of node.inputs) {
      const edge = input.ndim > 0 ? ` [label=${JSON.stringify(shapeOf(input))}]` : '';
      lines.push(`  ${id(input)} -> ${id(node.output)}${edge};`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}
