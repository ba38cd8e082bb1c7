/*
 * Wine 8.0 没有 bcryptprimitives.dll,而现在的 Rust 标准库在 Windows 上用它的 ProcessPrng
 * 取随机数(HashMap 的种子)。少了它,每个 .exe 一启动就以退出码 53 结束,什么也不打印。
 *
 * 这个替身只导出 ProcessPrng 一个函数,用 Wine 有的 RtlGenRandom(advapi32 的
 * SystemFunction036)实现。.ci/windows 用 mingw 编译它,放进 Wine 前缀的 system32。
 * 只在 CI 的 Wine 里用;真正的 Windows(10 及以后)自带这个 DLL。
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom 的真名;一次最多取 ULONG 个字节。 */
BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    /* 文档说 ProcessPrng 总是返回 TRUE;取不到随机数时这里如实返回 FALSE,std 会 panic,
       这在 CI 里比悄悄用一个不随机的种子更好。 */
    return TRUE;
}
