import { create, globals } from "webgpu";
Object.assign(globalThis, globals);
process.env.EGL_PLATFORM ??= "surfaceless"; process.env.XDG_RUNTIME_DIR ??= "/tmp";
const which = process.argv[2];
let gpu, extra = {};
if (which === "gles") { gpu = create(["backend=opengles"]); extra = { featureLevel: "compatibility" }; }
else { process.env.VK_ICD_FILENAMES = "/usr/lib/chromium/vk_swiftshader_icd.json"; gpu = create(["backend=vulkan"]); }
const shim = { requestAdapter: (o = {}) => gpu.requestAdapter({ ...o, ...extra }), getPreferredCanvasFormat: () => "rgba8unorm", wgslLanguageFeatures: gpu.wgslLanguageFeatures };
Object.defineProperty(globalThis, "navigator", { value: { gpu: shim, userAgent: `Node.js/${process.versions.node}` }, configurable: true });
const jax = await import("@jax-js/jax");
const devs = await jax.init("webgpu");
console.log("devices", devs);
jax.defaultDevice("webgpu");
const np = jax.numpy;
const n = 256;
const a = np.array(Float32Array.from({length:n*n},(_, k)=>Math.sin(k))).reshape([n,n]);
const b = np.array(Float32Array.from({length:n*n},(_, k)=>Math.cos(k))).reshape([n,n]);
const f = jax.jit((x,y)=>np.matmul(x,y));
for (let r=0;r<3;r++){ const t0=performance.now(); const out = await f(a.ref,b.ref).data(); console.log(r, performance.now()-t0, out[0], out.length); }
let s=0; for(let p=0;p<n;p++) s+=Math.sin(p)*Math.cos(p*n); console.log("want", s);
process.exit(0);
