"""几个教程风格程序共用的杂事:读命令行选项、解析地址、把输出设成 UTF-8。

和套接字无关的事都放在这里,每个程序的正文就只剩下教程里的那几步。
只用标准库,Windows、macOS、Linux 上都能运行(不用 fork、信号这些只有 Unix 才有的东西)。
"""
import socket
import sys


def setup_output():
    """让 print 写 UTF-8,并且每一行立刻写出去。

    输出被管道接走时(评分器和 course interop 就是这样读的),Python 默认攒满一大块才真正写出,
    读的一方就等不到第一行;Windows 上,管道默认的编码也未必写得了中文。
    """
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="replace", line_buffering=True)


class Options:
    """解析好的选项:`opts.port`、`opts.newline` 这样读。"""


def options(usage, **defaults):
    """按 defaults 解析命令行,返回 Options。

    defaults 里每一项是「选项名=默认值」,默认值的类型决定选项怎么写:
    True/False 是开关(`--newline`),整数、小数、文字后面要跟一个值(`--port 0`);
    默认值是 None 的是整数,不写就是 None。名字里的 `_` 在命令行上写成 `-`。
    `-h` 或 `--help` 打印 usage(程序开头的说明)。写错了就用中文说明,以退出码 2 退出。
    """
    opts = Options()
    for name, default in defaults.items():
        setattr(opts, name, default)
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            print(usage.strip())
            sys.exit(0)
        name = arg[2:].replace("-", "_") if arg.startswith("--") else None
        if name not in defaults:
            fail(f"不认识的参数 {arg}")
        default = defaults[name]
        if isinstance(default, bool):
            setattr(opts, name, True)
            continue
        if not args:
            fail(f"{arg} 后面要跟一个值")
        value = args.pop(0)
        kind = int if default is None else type(default)
        try:
            setattr(opts, name, kind(value))
        except ValueError:
            fail(f"{arg} 的值 {value!r} 不是{'整数' if kind is int else '数字'}")
    port = getattr(opts, "port", None)
    if port is not None and not 0 <= port <= 65535:
        fail(f"端口 {port} 不在 0 到 65535 之间")
    return opts


def fail(message):
    print(f"参数错误: {message}(用 --help 查看用法)", file=sys.stderr)
    sys.exit(2)


def resolve(host, port, kind):
    """把主机名和端口解析成 (地址族, 套接字地址)。kind 是 SOCK_DGRAM(UDP)或 SOCK_STREAM(TCP)。

    `[::1]` 这样带方括号的写法也认(程序打印的 IPv6 地址就是这个样子)。
    一个名字有好几个地址时(localhost 常常既是 ::1 又是 127.0.0.1),优先用 IPv4:
    课程的服务器默认只绑定 127.0.0.1。
    """
    host = host.strip("[]")
    found = socket.getaddrinfo(host, port, type=kind)
    found.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, address = found[0]
    return family, address


def show(address):
    """把套接字地址写成 `127.0.0.1:7852` 或 `[::1]:7852`,和 Rust 打印 SocketAddr 的样子一样。"""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
