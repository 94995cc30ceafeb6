/**
 * The safetensors file format (f32 only): an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { HostTensor, Weights } from './params.js';

export function encodeSafetensors(tensors: Weights, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  // The spec lets the header be padded with spaces; 8-byte alignment keeps the data aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headLen))) as Record<
    string,
    unknown
  >;
  const base = 8 + headLen;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== 'F32') throw new Error(`safetensors: tensor "${name}" is ${dtype}; only F32 is supported`);
    // Copy: the data section need not be 4-byte aligned within the file buffer.
    const raw = bytes.slice(base + data_offsets[0], base + data_offsets[1]);
    tensors.set(name, { shape, data: new Float32Array(raw.buffer) });
  }
  return { tensors, metadata };
}

export function saveSafetensors(path: string, tensors: Weights, metadata?: Record<string, string>): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  return decodeSafetensors(new Uint8Array(readFileSync(path)));
}
