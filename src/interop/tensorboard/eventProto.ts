/**
 * TensorBoard's `Event` protobuf (tensorflow/core/util/event.proto), the scalar part:
 *   Event { double wall_time = 1; int64 step = 2; string file_version = 3;
 *           Summary summary = 5; … }
 *   Summary { repeated Value value = 1; }
 *   Value { string tag = 1; float simple_value = 2; SummaryMetadata metadata = 9;
 *           TensorProto tensor = 8; (histo = 5, image = 4, … are not scalars) }
 *   TensorProto { DataType dtype = 1; TensorShapeProto tensor_shape = 2;
 *                 bytes tensor_content = 4; float_val = 5; double_val = 6;
 *                 int_val = 7; int64_val = 10; half_val = 13; }
 * A scalar is a `simple_value` (PyTorch's SummaryWriter, TF1) or a one-element numeric
 * `tensor` (TF2 and newer writers), whose metadata plugin, when named, is "scalars".
 */
import { halfToFloat } from '../torchTensor';
import { I32, I64, LEN, ProtoError, ProtoReader, ProtoWriter, VARINT } from './protoWire';

export interface ScalarValue {
  tag: string;
  value: number;
}

export interface TbEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: ScalarValue[];
}

/** TensorFlow DataType enum values read as scalars. */
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_INT64 = 9;
const DT_HALF = 19;

/** Reads a repeated numeric field, packed (LEN) or one element at a time. */
function repeated(r: ProtoReader, wire: number, one: (x: ProtoReader) => number, out: number[]) {
  if (wire === LEN) {
    const b = r.bytesField();
    const inner = new ProtoReader(b);
    while (!inner.done()) out.push(one(inner));
  } else {
    out.push(one(r));
  }
}

function shapeElements(bytes: Uint8Array): number {
  const r = new ProtoReader(bytes);
  let n = 1;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === LEN) {
      const dim = new ProtoReader(r.bytesField());
      let size = 1;
      while (!dim.done()) {
        const t = dim.tag();
        if (t.field === 1 && t.wire === VARINT) size = dim.smallVarint();
        else dim.skip(t.wire);
      }
      n *= size;
    } else r.skip(wire);
  }
  return n;
}

/** The single number of a one-element numeric TensorProto, or undefined. */
function tensorScalar(bytes: Uint8Array): number | undefined {
  const r = new ProtoReader(bytes);
  let dtype = 0;
  let elements = 1;
  let content: Uint8Array | undefined;
  const vals: number[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === VARINT) dtype = r.smallVarint();
    else if (field === 2 && wire === LEN) elements = shapeElements(r.bytesField());
    else if (field === 4 && wire === LEN) content = r.bytesField();
    else if (field === 5 && (wire === LEN || wire === I32))
      repeated(r, wire, (x) => x.float(), vals);
    else if (field === 6 && (wire === LEN || wire === I64))
      repeated(r, wire, (x) => x.double(), vals);
    else if ((field === 7 || field === 10) && (wire === LEN || wire === VARINT))
      repeated(r, wire, (x) => x.smallVarint(), vals);
    else if (field === 13 && (wire === LEN || wire === VARINT))
      repeated(r, wire, (x) => halfToFloat(x.smallVarint()), vals);
    else r.skip(wire);
  }
  if (elements !== 1 || ![DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_HALF].includes(dtype))
    return undefined;
  if (content && content.length > 0) {
    const v = new DataView(content.buffer, content.byteOffset, content.byteLength);
    const need = { [DT_FLOAT]: 4, [DT_DOUBLE]: 8, [DT_INT32]: 4, [DT_INT64]: 8, [DT_HALF]: 2 }[
      dtype
    ]!;
    if (content.length !== need)
      throw new ProtoError(`tensor_content has ${content.length} bytes, expected ${need}`);
    if (dtype === DT_FLOAT) return v.getFloat32(0, true);
    if (dtype === DT_DOUBLE) return v.getFloat64(0, true);
    if (dtype === DT_INT32) return v.getInt32(0, true);
    if (dtype === DT_INT64) return Number(v.getBigInt64(0, true));
    return halfToFloat(v.getUint16(0, true));
  }
  return vals.length === 1 ? vals[0] : undefined;
}

/** SummaryMetadata.plugin_data.plugin_name, or undefined. */
function pluginName(bytes: Uint8Array): string | undefined {
  const r = new ProtoReader(bytes);
  let name: string | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) {
      const p = new ProtoReader(r.bytesField());
      while (!p.done()) {
        const t = p.tag();
        if (t.field === 1 && t.wire === LEN) name = p.string();
        else p.skip(t.wire);
      }
    } else r.skip(wire);
  }
  return name;
}

function summaryValue(bytes: Uint8Array): ScalarValue | undefined {
  const r = new ProtoReader(bytes);
  let tag = '';
  let simple: number | undefined;
  let tensor: Uint8Array | undefined;
  let plugin: string | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) tag = r.string();
    else if (field === 2 && wire === I32) simple = r.float();
    else if (field === 8 && wire === LEN) tensor = r.bytesField();
    else if (field === 9 && wire === LEN) plugin = pluginName(r.bytesField());
    else r.skip(wire);
  }
  if (simple !== undefined) return { tag, value: simple };
  if (tensor && (plugin === undefined || plugin === '' || plugin === 'scalars')) {
    const v = tensorScalar(tensor);
    if (v !== undefined) return { tag, value: v };
  }
  return undefined;
}

/** Decodes one Event record; throws ProtoError when it is malformed. */
export function decodeEvent(bytes: Uint8Array): TbEvent {
  const r = new ProtoReader(bytes);
  const e: TbEvent = { wallTime: 0, step: 0, scalars: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === I64) e.wallTime = r.double();
    else if (field === 2 && wire === VARINT) e.step = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 3 && wire === LEN) e.fileVersion = r.string();
    else if (field === 5 && wire === LEN) {
      const s = new ProtoReader(r.bytesField());
      while (!s.done()) {
        const t = s.tag();
        if (t.field === 1 && t.wire === LEN) {
          const v = summaryValue(s.bytesField());
          if (v) e.scalars.push(v);
        } else s.skip(t.wire);
      }
    } else r.skip(wire);
  }
  return e;
}

/** Encodes an Event: the file-version header when `fileVersion` is set, else scalars as simple_value. */
export function encodeEvent(e: TbEvent): Uint8Array {
  const w = new ProtoWriter().double(1, e.wallTime).int64(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.scalars.length > 0) {
    const summary = new ProtoWriter();
    for (const s of e.scalars)
      summary.bytes(1, new ProtoWriter().string(1, s.tag).float(2, s.value).finish());
    w.bytes(5, summary.finish());
  }
  return w.finish();
}
