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

/**
 * Reads a safetensors buffer, checking what a truncated or foreign file would get wrong (header
 * length, JSON, dtypes, shapes against byte ranges) before any tensor is built.
 */
export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
} {
  if (bytes.byteLength < 8) throw new Error(`${bytes.byteLength} bytes, too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Number(view.getBigUint64(0, true));
  if (headLen > bytes.byteLength - 8)
    throw new Error(`its header claims ${headLen} bytes, the file holds ${bytes.byteLength} (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headLen)));
  } catch {
    throw new Error('its header is not JSON (not a safetensors file?)');
  }
  const base = 8 + headLen;
  const dataBytes = bytes.byteLength - base;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: range,
    } = (entry ?? {}) as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    if (dtype !== 'F32') throw new Error(`tensor "${name}" is ${String(dtype)}; only F32 is supported`);
    const dims = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0) ? shape : null;
    const [begin, end] = Array.isArray(range) ? (range as number[]) : [];
    if (!dims || !Number.isInteger(begin) || !Number.isInteger(end))
      throw new Error(`tensor "${name}": shape or data_offsets missing or not integers`);
    if (end > dataBytes) throw new Error(`tensor "${name}" ends at byte ${end} of ${dataBytes} (truncated?)`);
    const size = dims.reduce((a: number, b: number) => a * b, 1);
    if (end - begin !== 4 * size)
      throw new Error(`tensor "${name}": [${dims}] needs ${4 * size} bytes, its range holds ${end - begin}`);
    // Copy: the data section need not be 4-byte aligned within the file buffer.
    const raw = bytes.slice(base + begin, base + end);
    tensors.set(name, { shape: dims, data: new Float32Array(raw.buffer) });
  }
  return { tensors, metadata };
}

export function saveSafetensors(path: string, tensors: Weights, metadata?: Record<string, string>): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

/** A safetensors file; every fault names it. */
export function loadSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    return decodeSafetensors(bytes);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
