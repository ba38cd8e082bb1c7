"""教程风格的 UDP 客户端:发一个数据报,收一个回复,打印出来。

照着原教程的案例 02 写的(代码是我们自己的):sendto 一次,recvfrom(200) 一次。
只多了一样:最多等 --timeout 秒。教程里的 recvfrom 没有超时,服务器不回复就永远等下去。

用法:
  python3 tools/interop/udp_client.py [--message 文字] [--host 地址] [--port 端口] [--timeout 秒]

选项:
  --message 文字   要发的话(默认「你好,世界」)
  --host 地址      服务器的地址(默认 127.0.0.1)
  --port 端口      服务器的端口(默认 7852)
  --timeout 秒     最多等回复多少秒(默认 5)

先在另一个终端里启动服务器:cargo run -p solution-01(或者 solution-03)
"""
import socket
import sys

import common


def main():
    common.setup_output()
    opts = common.options(__doc__, message="你好,世界", host="127.0.0.1", port=7852, timeout=5.0)
    family, server = common.resolve(opts.host, opts.port, socket.SOCK_DGRAM)

    # ANCHOR: talk
    # 第 1 步:建立 UDP 套接字。客户端不用 bind:第一次 sendto 时,系统会给它挑一个端口。
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(opts.timeout)
    # 第 2 步:把一句话编码成字节,作为一个数据报发给服务器。
    sock.sendto(opts.message.encode(), server)
    # 第 3 步:等回复。缓冲区只有 200 字节,和教程一样:更长的回复会被截断。
    try:
        data, _ = sock.recvfrom(200)
    except socket.timeout:
        print(f"等了 {opts.timeout:g} 秒,没有收到回复:服务器在运行吗?", file=sys.stderr)
        sys.exit(1)
    except ConnectionResetError:
        # Windows 上,发往一个没人监听的端口之后,recvfrom 会报这个错。
        print("服务器那个端口上没有程序在收:服务器在运行吗?", file=sys.stderr)
        sys.exit(1)
    print(f"服务器回复: {data.decode()}")
    # ANCHOR_END: talk
    sock.close()


if __name__ == "__main__":
    main()
