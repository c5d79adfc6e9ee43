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
    // The message names what to install (the webgpu package, or a driver such as Mesa's).
    return (error as Error).message.split('\n')[0]!;
  }
}
