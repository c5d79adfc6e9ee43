/** Starting the WebGPU device for tests, or the one-line reason its tests are skipped. */
import * as nb from '../../src/index.js';

/**
 * Null once the device is started; otherwise why not (no `webgpu` package, no adapter: on a
 * machine without a GPU, Debian's mesa-vulkan-drivers from bookworm-backports provides one).
 */
export async function webgpuSkipReason(): Promise<string | null> {
  // Dawn's Vulkan loader wants a runtime directory; CI containers often have none.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    await nb.startDevice('webgpu');
    return null;
  } catch (error) {
    return `needs a WebGPU adapter (Debian mesa-vulkan-drivers from bookworm-backports, and the webgpu package): ${(error as Error).message.split('\n')[0]}`;
  }
}
