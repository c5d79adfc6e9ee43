/**
 * The part of the protocol buffers wire format that ONNX files need: varints, 32-bit floats and
 * length-delimited fields (strings, bytes, nested messages). A message is built as a list of
 * encoded fields; `bytes()` concatenates them.
 */

const encoder = new TextEncoder();

/** Wire types of the fields we write. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function varint(value: number | bigint): number[] {
  // int64 fields hold negative values as their 64-bit two's complement.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

export class Message {
  private readonly parts: Uint8Array[] = [];

  private key(field: number, wireType: number): number[] {
    return varint((field << 3) | wireType);
  }

  /** An int32, int64, enum or bool field. */
  int(field: number, value: number | bigint): this {
    this.parts.push(Uint8Array.from([...this.key(field, VARINT), ...varint(value)]));
    return this;
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(Uint8Array.from([...this.key(field, FIXED32), ...bytes]));
    return this;
  }

  /** Bytes, a string (UTF-8) or a nested message. */
  bytes(field: number, value: Uint8Array | string | Message): this {
    const data =
      typeof value === 'string'
        ? encoder.encode(value)
        : value instanceof Message
          ? value.encode()
          : value;
    this.parts.push(
      Uint8Array.from([...this.key(field, LENGTH_DELIMITED), ...varint(data.length)]),
    );
    this.parts.push(data);
    return this;
  }

  /** The message's bytes. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
