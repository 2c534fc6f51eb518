/* gpu-check: uses the GPU the way GPU apps do, from inside a strict snap,
 * through the libraries the launcher puts in /var/lib/snapd/lib. Nothing is
 * linked at build time: the driver's and the loaders' libraries are opened
 * with dlopen, as CUDA runtimes, EGL and Vulkan loaders do, so the same
 * binary runs on a machine without a GPU and says why each check fails.
 *
 *   gpu-check [cuda] [egl] [vulkan]     (default: all three)
 *
 * Each check prints "PASS <what>: <detail>" or "FAIL <what>: <error>"; the
 * exit status is the number of failed checks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define PASS(what, ...) (printf("PASS %s: ", what), printf(__VA_ARGS__), putchar('\n'))
#define FAIL(what, ...) (failures++, printf("FAIL %s: ", what), printf(__VA_ARGS__), putchar('\n'), 0)

/* Where dlopen found a library. */
static const char *origin(void *handle) {
    struct link_map *map = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) return "?";
    return map->l_name;
}

static void *must_sym(void *lib, const char *name, const char *what) {
    void *p = dlsym(lib, name);
    if (p == NULL) (void)FAIL(what, "%s is missing: %s", name, dlerror());
    return p;
}

/* ---- CUDA driver API ---- */
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef unsigned long long CUdeviceptr;

static int check_cuda(void) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return FAIL("cuda load", "%s", dlerror());
    const char *from = origin(lib);
    char *real = realpath(from, NULL);
    if (strncmp(from, "/var/lib/snapd/lib/gl/", 22) != 0)
        return FAIL("cuda load", "libcuda.so.1 came from %s, not the launcher's farm", from);
    PASS("cuda load", "libcuda.so.1 from %s (%s)", from, real ? real : "?");
    free(real);
    CUresult (*cuInit)(unsigned) = must_sym(lib, "cuInit", "cuda");
    CUresult (*cuGetErrorString)(CUresult, const char **) = must_sym(lib, "cuGetErrorString", "cuda");
    CUresult (*cuDeviceGetCount)(int *) = must_sym(lib, "cuDeviceGetCount", "cuda");
    CUresult (*cuDeviceGet)(CUdevice *, int) = must_sym(lib, "cuDeviceGet", "cuda");
    CUresult (*cuDeviceGetName)(char *, int, CUdevice) = must_sym(lib, "cuDeviceGetName", "cuda");
    CUresult (*cuDriverGetVersion)(int *) = must_sym(lib, "cuDriverGetVersion", "cuda");
    CUresult (*retain)(CUcontext *, CUdevice) = must_sym(lib, "cuDevicePrimaryCtxRetain", "cuda");
    CUresult (*release)(CUdevice) = must_sym(lib, "cuDevicePrimaryCtxRelease_v2", "cuda");
    CUresult (*setCurrent)(CUcontext) = must_sym(lib, "cuCtxSetCurrent", "cuda");
    CUresult (*memAlloc)(CUdeviceptr *, size_t) = must_sym(lib, "cuMemAlloc_v2", "cuda");
    CUresult (*memsetD8)(CUdeviceptr, unsigned char, size_t) = must_sym(lib, "cuMemsetD8_v2", "cuda");
    CUresult (*dtoh)(void *, CUdeviceptr, size_t) = must_sym(lib, "cuMemcpyDtoH_v2", "cuda");
    CUresult (*memFree)(CUdeviceptr) = must_sym(lib, "cuMemFree_v2", "cuda");
    if (!cuInit || !cuGetErrorString || !cuDeviceGetCount || !cuDeviceGet || !cuDeviceGetName || !cuDriverGetVersion ||
        !retain || !release || !setCurrent || !memAlloc || !memsetD8 || !dtoh || !memFree)
        return 0;
#define CU(call, what)                                                   \
    do {                                                                 \
        CUresult r_ = (call);                                            \
        if (r_ != 0) {                                                   \
            const char *s_ = "?";                                        \
            cuGetErrorString(r_, &s_);                                   \
            return FAIL(what, "%s failed: error %d (%s)", #call, r_, s_); \
        }                                                                \
    } while (0)
    CU(cuInit(0), "cuInit");
    int version = 0, count = 0;
    CU(cuDriverGetVersion(&version), "cuInit");
    PASS("cuInit", "CUDA driver API %d.%d", version / 1000, (version % 1000) / 10);
    CU(cuDeviceGetCount(&count), "cuda devices");
    if (count < 1) return FAIL("cuda devices", "no device");
    CUdevice dev;
    char name[256] = {0};
    CU(cuDeviceGet(&dev, 0), "cuda devices");
    CU(cuDeviceGetName(name, sizeof name - 1, dev), "cuda devices");
    PASS("cuda devices", "%d, device 0 is %s", count, name);
    CUcontext ctx;
    CU(retain(&ctx, dev), "cuda context");
    CU(setCurrent(ctx), "cuda context");
    PASS("cuda context", "primary context of device 0 current");
    const size_t size = 256u << 20;
    CUdeviceptr ptr;
    CU(memAlloc(&ptr, size), "cuMemAlloc 256 MiB");
    CU(memsetD8(ptr, 0xa5, size), "cuMemAlloc 256 MiB");
    static unsigned char back[4096];
    CU(dtoh(back, ptr + size - sizeof back, sizeof back), "cuMemAlloc 256 MiB");
    for (size_t i = 0; i < sizeof back; i++)
        if (back[i] != 0xa5) return FAIL("cuMemAlloc 256 MiB", "byte %zu reads %#x after memset 0xa5", i, back[i]);
    CU(memFree(ptr), "cuMemFree");
    PASS("cuMemAlloc 256 MiB", "allocated, set on the device, read back and freed");
    CU(release(dev), "cuda context");
    return 1;
}

/* ---- EGL on the device platform ---- */
typedef void *EGLDisplay, *EGLConfig, *EGLSurface, *EGLContext, *EGLDeviceEXT;
typedef int32_t EGLint;
typedef unsigned int EGLBoolean;
#define EGL_PLATFORM_DEVICE_EXT 0x313F
#define EGL_VENDOR 0x3053
#define EGL_VERSION 0x3054
#define EGL_SURFACE_TYPE 0x3033
#define EGL_PBUFFER_BIT 0x0001
#define EGL_RENDERABLE_TYPE 0x3040
#define EGL_OPENGL_BIT 0x0008
#define EGL_WIDTH 0x3057
#define EGL_HEIGHT 0x3056
#define EGL_NONE 0x3038
#define EGL_OPENGL_API 0x30A2
#define GL_VENDOR 0x1F00
#define GL_RENDERER 0x1F01

static int check_egl(void) {
    void *lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return FAIL("egl load", "%s", dlerror());
    void *(*getProc)(const char *) = must_sym(lib, "eglGetProcAddress", "egl");
    EGLint (*getError)(void) = must_sym(lib, "eglGetError", "egl");
    if (!getProc || !getError) return 0;
    EGLBoolean (*queryDevices)(EGLint, EGLDeviceEXT *, EGLint *) = getProc("eglQueryDevicesEXT");
    EGLDisplay (*platformDisplay)(unsigned, void *, const EGLint *) = getProc("eglGetPlatformDisplayEXT");
    EGLBoolean (*init)(EGLDisplay, EGLint *, EGLint *) = getProc("eglInitialize");
    const char *(*queryString)(EGLDisplay, EGLint) = getProc("eglQueryString");
    EGLBoolean (*chooseConfig)(EGLDisplay, const EGLint *, EGLConfig *, EGLint, EGLint *) = getProc("eglChooseConfig");
    EGLSurface (*pbuffer)(EGLDisplay, EGLConfig, const EGLint *) = getProc("eglCreatePbufferSurface");
    EGLBoolean (*bindApi)(unsigned) = getProc("eglBindAPI");
    EGLContext (*createContext)(EGLDisplay, EGLConfig, EGLContext, const EGLint *) = getProc("eglCreateContext");
    EGLBoolean (*makeCurrent)(EGLDisplay, EGLSurface, EGLSurface, EGLContext) = getProc("eglMakeCurrent");
    EGLBoolean (*terminate)(EGLDisplay) = getProc("eglTerminate");
    const unsigned char *(*glGetString)(unsigned) = getProc("glGetString");
    if (!queryDevices || !platformDisplay || !init || !queryString || !chooseConfig || !pbuffer || !bindApi ||
        !createContext || !makeCurrent || !terminate || !glGetString)
        return FAIL("egl load", "an EGL entry point is missing (no vendor library loaded?)");
    EGLDeviceEXT devices[8];
    EGLint n = 0;
    if (!queryDevices(8, devices, &n) || n < 1) return FAIL("egl device", "eglQueryDevicesEXT: %d devices, error %#x", n, getError());
    EGLDisplay dpy = NULL;
    const char *vendor = NULL;
    for (EGLint i = 0; i < n && vendor == NULL; i++) {
        dpy = platformDisplay(EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
        EGLint major, minor;
        if (dpy != NULL && init(dpy, &major, &minor)) {
            const char *v = queryString(dpy, EGL_VENDOR);
            if (v != NULL && strstr(v, "NVIDIA") != NULL) vendor = v;
        }
    }
    if (vendor == NULL) return FAIL("egl device", "no EGL device of NVIDIA's among %d (error %#x)", n, getError());
    PASS("egl device", "%d devices, vendor \"%s\", EGL %s", n, vendor, queryString(dpy, EGL_VERSION));
    const EGLint attrs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
    EGLConfig config;
    EGLint configs = 0;
    if (!chooseConfig(dpy, attrs, &config, 1, &configs) || configs < 1)
        return FAIL("egl context", "no pbuffer config (error %#x)", getError());
    const EGLint size[] = {EGL_WIDTH, 16, EGL_HEIGHT, 16, EGL_NONE};
    EGLSurface surface = pbuffer(dpy, config, size);
    if (surface == NULL) return FAIL("egl context", "eglCreatePbufferSurface: error %#x", getError());
    bindApi(EGL_OPENGL_API);
    EGLContext ctx = createContext(dpy, config, NULL, NULL);
    if (ctx == NULL || !makeCurrent(dpy, surface, surface, ctx))
        return FAIL("egl context", "context not made current (error %#x)", getError());
    PASS("egl context", "pbuffer context current: GL_VENDOR \"%s\", GL_RENDERER \"%s\"", glGetString(GL_VENDOR),
         glGetString(GL_RENDERER));
    terminate(dpy);
    return 1;
}

/* ---- Vulkan ---- */
typedef struct {
    int sType;
    const void *pNext;
    const char *pApplicationName;
    uint32_t applicationVersion;
    const char *pEngineName;
    uint32_t engineVersion;
    uint32_t apiVersion;
} VkApplicationInfo;
typedef struct {
    int sType;
    const void *pNext;
    uint32_t flags;
    const VkApplicationInfo *pApplicationInfo;
    uint32_t enabledLayerCount;
    const char *const *ppEnabledLayerNames;
    uint32_t enabledExtensionCount;
    const char *const *ppEnabledExtensionNames;
} VkInstanceCreateInfo;
typedef void *VkInstance, *VkPhysicalDevice;

static int check_vulkan(void) {
    void *lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return FAIL("vulkan load", "%s", dlerror());
    void *(*gipa)(VkInstance, const char *) = must_sym(lib, "vkGetInstanceProcAddr", "vulkan");
    if (!gipa) return 0;
    int (*create)(const VkInstanceCreateInfo *, const void *, VkInstance *) = gipa(NULL, "vkCreateInstance");
    VkApplicationInfo app = {0, NULL, "gpu-check", 1, "none", 0, (1u << 22) | (1u << 12)};
    VkInstanceCreateInfo info = {1, NULL, 0, &app, 0, NULL, 0, NULL};
    VkInstance inst;
    int r = create(&info, NULL, &inst);
    if (r != 0) return FAIL("vulkan instance", "vkCreateInstance: VkResult %d", r);
    int (*enumerate)(VkInstance, uint32_t *, VkPhysicalDevice *) = gipa(inst, "vkEnumeratePhysicalDevices");
    void (*props)(VkPhysicalDevice, void *) = gipa(inst, "vkGetPhysicalDeviceProperties");
    void (*destroy)(VkInstance, const void *) = gipa(inst, "vkDestroyInstance");
    VkPhysicalDevice devs[8];
    uint32_t n = 8;
    r = enumerate(inst, &n, devs);
    if ((r != 0 && r != 5) || n < 1) return FAIL("vulkan device", "vkEnumeratePhysicalDevices: VkResult %d, %u devices", r, n);
    /* VkPhysicalDeviceProperties: apiVersion, driverVersion, vendorID,
     * deviceID, deviceType, then deviceName[256]. */
    static uint64_t buf[1024];
    props(devs[0], buf);
    const uint32_t *u = (const uint32_t *)buf;
    const char *name = (const char *)buf + 20;
    PASS("vulkan device", "%u physical devices, device 0 is %s (vendor %#x, Vulkan %u.%u)", n, name, u[2], u[0] >> 22,
         (u[0] >> 12) & 0x3ff);
    destroy(inst, NULL);
    return 1;
}

int main(int argc, char **argv) {
    int cuda = argc < 2, egl = argc < 2, vulkan = argc < 2;
    for (int i = 1; i < argc; i++) {
        cuda |= strcmp(argv[i], "cuda") == 0;
        egl |= strcmp(argv[i], "egl") == 0;
        vulkan |= strcmp(argv[i], "vulkan") == 0;
    }
    if (cuda) check_cuda();
    fflush(stdout);
    if (egl) check_egl();
    fflush(stdout);
    if (vulkan) check_vulkan();
    return failures;
}
