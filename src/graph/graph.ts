/**
 * A computational graph (TF1's tf.Graph): plain data, no execution. Its nodes are the same TapeNodes
 * eager autograd records (op + inputs + attrs + output), so one gradient walker serves both modes.
 * Leaves are placeholders (fed at run time), variables (state kept by a Session) and constants
 * (eager tensors an op used, captured by value).
 */
import type { DType } from '../core/dtype.js';
import { displayShape, opError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { pin } from '../engine/scope.js';
import type { TapeNode } from '../ops/define.js';
import type { Tensor } from '../tensor/tensor.js';

export type Leaf =
  | { kind: 'placeholder'; name: string }
  | { kind: 'variable'; name: string; trainable: boolean; initialValue: Tensor }
  | { kind: 'constant'; name: string; value: Tensor };

export class Graph {
  /** Every node, in the order it was built (a valid topological order). */
  readonly nodes: TapeNode[] = [];
  readonly leaves = new Map<Tensor, Leaf>();
  private readonly captured = new Map<Tensor, Tensor>();
  private readonly originals = new Map<Tensor, Tensor>();
  private readonly names = new Map<string, number>();
  /** Bumped on every change, so cached plans know when to rebuild. */
  version = 0;

  /** A fresh name: `base`, then `base_1`, `base_2`, ... (TF1's uniquification). */
  uniqueName(base: string): string {
    const count = this.names.get(base) ?? 0;
    this.names.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  }

  addNode(node: TapeNode): void {
    this.nodes.push(node);
    this.version++;
  }

  addLeaf(tensor: Tensor, leaf: Leaf): void {
    this.leaves.set(tensor, leaf);
    this.version++;
  }

  /** The symbolic stand-in for an eager tensor used by a graph op (one per tensor). */
  capture(value: Tensor, makeSymbolic: (shape: Shape, dtype: DType) => Tensor): Tensor {
    let symbolic = this.captured.get(value);
    if (!symbolic) {
      symbolic = makeSymbolic(value.shape, value.dtype);
      // A captured parameter stays differentiable: gradients reaching it belong to the original.
      if (value.requiresGrad) symbolic.requiresGrad_(true);
      this.captured.set(value, symbolic);
      this.originals.set(symbolic, value);
      pin(value); // the graph reads it whenever it runs
      this.addLeaf(symbolic, { kind: 'constant', name: this.uniqueName('Const'), value });
    }
    return symbolic;
  }

  /** The eager tensor a captured constant stands for (undefined for other tensors). */
  originalOf(t: Tensor): Tensor | undefined {
    return this.originals.get(t);
  }

  /** A readable name for any tensor of this graph. */
  nameOf(t: Tensor): string {
    const leaf = this.leaves.get(t);
    if (leaf) return leaf.name;
    const index = t.gradFn ? this.nodes.indexOf(t.gradFn) : -1;
    return index >= 0 ? `${t.gradFn!.name}_${index}` : '?';
  }

  /** One line per node: `name = Op(inputs) : shape dtype`. */
  toString(): string {
    const describe = (t: Tensor): string => `${displayShape(t.shape)} ${t.dtype}`;
    const lines: string[] = [];
    for (const [t, leaf] of this.leaves) lines.push(`${leaf.name} = ${leaf.kind} : ${describe(t)}`);
    for (const node of this.nodes) {
      const args = node.inputs.map((t) => this.nameOf(t)).join(', ');
      lines.push(`${this.nameOf(node.output)} = ${node.name}(${args}) : ${describe(node.output)}`);
    }
    return lines.join('\n');
  }

  /** The graph in Graphviz DOT: ops as boxes, leaves as ellipses, edges labelled with shapes. */
  toDot(): string {
    const id = (t: Tensor): string => JSON.stringify(this.nameOf(t));
    const shapeLabel = (t: Tensor): string => JSON.stringify(displayShape(t.shape));
    const lines = ['digraph G {', '  rankdir=BT;', '  node [fontname="Helvetica"];'];
    for (const [t, leaf] of this.leaves)
      lines.push(
        `  ${id(t)} [shape=ellipse, label=${JSON.stringify(`${leaf.name}\n${leaf.kind}`)}];`,
      );
    for (const node of this.nodes) {
      lines.push(`  ${id(node.output)} [shape=box, label=${JSON.stringify(node.name)}];`);
      for (const input of node.inputs)
        lines.push(`  ${id(input)} -> ${id(node.output)} [label=${shapeLabel(input)}];`);
    }
    lines.push('}');
    return lines.join('\n');
  }
}

let defaultGraph = new Graph();

export function getDefaultGraph(): Graph {
  return defaultGraph;
}

/** Starts a new, empty default graph (TF1's tf.reset_default_graph). */
export function resetDefaultGraph(): Graph {
  defaultGraph = new Graph();
  return defaultGraph;
}

/** The graph of the symbolic inputs, checking they all belong to the same one. */
export function graphOf(op: string, inputs: readonly Tensor[]): Graph | null {
  let graph: Graph | null = null;
  for (const t of inputs) {
    if (!t.graph) continue;
    if (graph && t.graph !== graph) throw opError(op, 'inputs belong to different graphs');
    graph = t.graph;
  }
  return graph;
}
