/**
 * Getting a `GPUDevice`. In a browser (or any host with `navigator.gpu`) the
 * page's WebGPU; in Node, Dawn through the npm package `webgpu`, tried on
 * the platform's default backend (a real GPU), then on OpenGL ES with Mesa's
 * llvmpipe (the compatibility feature level, no GPU needed), then on
 * SwiftShader's Vulkan driver where Debian's Chromium installed it.
 * The device asks for the adapter's larger limits (storage binding size,
 * buffer size, storage buffers per stage) and for timestamp queries when the
 * adapter has them. No adapter at all is a {@link CompileError} (TNS0610)
 * that says how to get one.
 */
import { CompileError } from "../../diagnostics/diagnostic.js";
import type { WgslLimits } from "./types.js";

/** A device and what the adapter said about itself. */
export interface WgslDevice {
  readonly device: GPUDevice;
  /** Vendor, architecture and description of the adapter, as far as it tells. */
  readonly adapter: string;
  /** Whether the adapter is the compatibility feature level (OpenGL ES). */
  readonly compatibility: boolean;
}

/** SwiftShader's Vulkan driver as Debian's chromium package installs it. */
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

const NO_ADAPTER_HINT = "in Node, install the optional dependency `webgpu` (npm install webgpu) and a driver: a GPU's, or "
  + "Mesa's for the CPU (Debian: apt-get install mesa-vulkan-drivers libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri); "
  + "in a browser, one with WebGPU enabled (Chromium: --enable-unsafe-webgpu on Linux); see docs/wgsl.md";

function noDevice(message: string): CompileError {
  return new CompileError([{ code: "TNS0610", severity: "error", notes: [], message, hint: NO_ADAPTER_HINT }]);
}

function describe(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.description].filter((p) => p);
  return parts.length > 0 ? parts.join(" ") : "unnamed adapter";
}

/** The larger limits an adapter offers, for `requestDevice`. */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const names = [
    "maxStorageBufferBindingSize", "maxBufferSize", "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX",
  ] as const;
  const out: Record<string, number> = {};
  for (const n of names) out[n] = adapter.limits[n];
  return out;
}

async function deviceOf(adapter: GPUAdapter, compatibility: boolean): Promise<WgslDevice> {
  const requiredFeatures: GPUFeatureName[] = adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits: wantedLimits(adapter) });
  return { device, adapter: describe(adapter), compatibility };
}

/** Dawn instances whose devices are in use. */
const liveInstances = new Set<GPU>();

interface DawnModule { create(flags: string[]): GPU; globals: object }

/** Dawn's Node bindings, or why they did not load (not installed, or a native library missing). */
async function loadDawn(): Promise<DawnModule | string> {
  try {
    return (await import("webgpu" as string)) as DawnModule;
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    return /Cannot find (package|module) 'webgpu'/.test(message)
      ? "the package `webgpu` is not installed"
      : `the package \`webgpu\` did not load (${message})`;
  }
}

/**
 * A device of this host's WebGPU.
 *
 * @throws CompileError (TNS0610) when the host has no WebGPU adapter
 * @example
 * ```ts
 * const { device, adapter } = await requestWgslDevice();
 * adapter; // e.g. "mesa llvmpipe ..." on a machine without a GPU
 * ```
 */
export async function requestWgslDevice(): Promise<WgslDevice> {
  const navigatorGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (navigatorGpu) {
    const adapter = await navigatorGpu.requestAdapter();
    if (!adapter) throw noDevice("this browser exposes WebGPU but gave no adapter");
    return deviceOf(adapter, false);
  }
  if (typeof process === "undefined" || !process.versions?.node) throw noDevice("no WebGPU: this host has no navigator.gpu");
  const dawn = await loadDawn();
  if (typeof dawn === "string") throw noDevice(`no WebGPU: this host has no navigator.gpu, and ${dawn}`);
  // Mesa reads these when the OpenGL ES backend starts; without them it prints warnings or finds no display.
  process.env["EGL_PLATFORM"] ??= "surfaceless";
  process.env["XDG_RUNTIME_DIR"] ??= (await import("node:os")).tmpdir();
  const { existsSync, readdirSync } = await import("node:fs");
  const tries: { flags: string[]; compatibility: boolean; env?: Record<string, string> }[] = [];
  // A Linux machine without GPU device nodes has only software drivers: the default (Vulkan)
  // backend would refuse Mesa's lavapipe with a warning, so go straight to OpenGL ES there.
  const gpuNodes = (): boolean => {
    try {
      return readdirSync("/dev/dri").some((f) => f.startsWith("renderD")) || existsSync("/dev/nvidia0");
    } catch {
      return existsSync("/dev/nvidia0");
    }
  };
  if (process.platform !== "linux" || gpuNodes()) tries.push({ flags: [], compatibility: false });
  tries.push({ flags: ["backend=opengles"], compatibility: true });
  if (existsSync(SWIFTSHADER_ICD)) tries.push({ flags: ["backend=vulkan"], compatibility: false, env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD } });
  for (const t of tries) {
    const saved = t.env ? Object.fromEntries(Object.keys(t.env).map((k) => [k, process.env[k]])) : {};
    if (t.env) Object.assign(process.env, t.env);
    try {
      const gpu = dawn.create(t.flags);
      const adapter = await gpu.requestAdapter(t.compatibility ? { featureLevel: "compatibility" } as GPURequestAdapterOptions : {});
      if (adapter) {
        // Dawn delivers a device's callbacks (mapAsync, compilation info) through its instance: keep it alive.
        liveInstances.add(gpu);
        return await deviceOf(adapter, t.compatibility);
      }
    } catch {
      // This backend is not available here; try the next.
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }
  throw noDevice("no WebGPU adapter: Dawn found no GPU, no OpenGL ES driver and no SwiftShader");
}

/**
 * The limits a plan for this device may use: its own, where larger than
 * WebGPU's compatibility defaults.
 *
 * @example
 * ```ts
 * deviceLimits(device).maxComputeWorkgroupsPerDimension; // 65535
 * ```
 */
export function deviceLimits(device: GPUDevice): WgslLimits {
  const l = device.limits;
  return {
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
  };
}
