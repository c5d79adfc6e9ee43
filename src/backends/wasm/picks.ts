/**
 * Gather and scatter-add of float32 elements by int32 indices along one dimension, in WebAssembly:
 * a max pooling's forward picks each window's maximum from its plane, and its backward adds each
 * gradient back at that place (W7: 346,112 picks into [64, 32, 676] planes). The operands are
 * dense, laid out as [before, along, after] (index, source of a scatter, output of a gather) and
 * [before, size, after] (the indexed side); positions are visited in the plain-TS kernels' order,
 * so scatter-adds sum in the same order and give the same floats. An index outside [0, size)
 * traps; the caller then runs the plain kernel, which names the op and the index.
 */
import { buildModule, FunctionBuilder, ValType } from './emitter.js';
import type { Arena } from './arena.js';

/** fn(indexed, index, other, before, along, after, size): byte addresses, then counts. */
type PicksFunction = (
  indexed: number,
  index: number,
  other: number,
  before: number,
  along: number,
  after: number,
  size: number,
) => void;

/**
 * The loops over [before, along, after]; `move(target)` gets the address of the indexed element
 * on the stack, `other` at the position's element of the dense operand.
 */
function picksFunction(
  name: string,
  move: (f: FunctionBuilder, target: () => void, other: () => void) => void,
): FunctionBuilder {
  const f = new FunctionBuilder(name, Array<ValType>(7).fill(ValType.i32));
  const [indexed, index, other, before, along, after, size] = f.paramTuple(7);
  const [k, b, j, column, afterBytes, planeBytes] = f.localTuple(ValType.i32, 6);
  f.get(after).i32(4).mul().set(afterBytes);
  f.get(size).get(afterBytes).mul().set(planeBytes);
  f.countDown(before, () => {
    f.get(along).set(k);
    f.countDown(k, () => {
      f.get(after).set(b);
      f.i32(0).set(column);
      f.countDown(b, () => {
        f.get(index)
          .i32Load()
          .tee(j)
          .get(size)
          .geU()
          .ifThen(() => f.trap());
        const target = (): void =>
          void f.get(indexed).get(j).get(afterBytes).mul().add().get(column).add();
        move(f, target, () => f.get(other));
        f.increment(index, 4).increment(other, 4).increment(column, 4);
      });
    });
    f.incrementBy(indexed, planeBytes);
  });
  return f;
}

/** out[a, k, b] = x[a, index[a, k, b], b]. */
const gatherFunction = (): FunctionBuilder =>
  picksFunction('gather', (f, target, out) => {
    out();
    target();
    f.f32Load().f32Store();
  });

/** out[a, index[a, k, b], b] += src[a, k, b], into a zeroed output. */
const scatterAddFunction = (): FunctionBuilder =>
  picksFunction('scatterAdd', (f, target, src) => {
    target();
    target();
    f.f32Load();
    src();
    f.f32Load().f32Arith('add', 1).f32Store();
  });

/** The two kernels, bound to the arena's memory. */
export class WasmPicks {
  readonly gather: PicksFunction;
  readonly scatterAdd: PicksFunction;
  constructor(readonly arena: Arena) {
    const module = new WebAssembly.Module(
      buildModule([gatherFunction(), scatterAddFunction()], true),
    );
    const exports = new WebAssembly.Instance(module, { env: { memory: arena.memory } }).exports;
    this.gather = exports['gather'] as PicksFunction;
    this.scatterAdd = exports['scatterAdd'] as PicksFunction;
  }
}
