"""教程风格的 TCP 客户端:连上服务器,发一句话,recv 一次,把收到的打印出来。

照着原教程的案例 05(另外两篇教程的客户端也一样)写的,代码是我们自己的:
connect,发一句话(后面没有换行),recv(500) 一次,关闭。
只多了一样:每一步最多等 --timeout 秒。教程里没有超时,服务器不回复就永远等下去。

用法:
  python3 tools/interop/tcp_client.py [--newline | --shutdown] [--message 文字] [--host 地址] [--port 端口] [--timeout 秒]

选项:
  --newline        在消息后面加一个换行(课程的协议:一行一条消息)
  --shutdown       发完以后关闭发送方向(shutdown(SHUT_WR)),告诉服务器「我说完了」
  --message 文字   要发的话(默认「你好,世界」)
  --host 地址      服务器的地址(默认 127.0.0.1)
  --port 端口      服务器的端口(默认 8998)
  --timeout 秒     连接、等回复各最多等多少秒(默认 5)

先在另一个终端里启动服务器:cargo run -p solution-04
"""
import socket
import sys

import common


def main():
    common.setup_output()
    opts = common.options(
        __doc__,
        newline=False,
        shutdown=False,
        message="你好,世界",
        host="127.0.0.1",
        port=8998,
        timeout=5.0,
    )
    family, server = common.resolve(opts.host, opts.port, socket.SOCK_STREAM)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(opts.timeout)
    try:
        sock.connect(server)
    except ConnectionRefusedError:
        print(f"连接 {common.show(server)} 被拒绝:服务器在运行吗?", file=sys.stderr)
        sys.exit(1)

    # ANCHOR: send
    # 教程发的就是这句话本身,后面什么也不加:服务器怎么知道它说完了?
    data = opts.message.encode()
    if opts.newline:
        # 改法一:加一个换行。课程的服务器读到换行,就知道一条消息结束了。
        data += b"\n"
    # 教程用的是 send:它可能只发出一部分。sendall 一直发到全部发完。
    sock.sendall(data)
    if opts.shutdown:
        # 改法二:关闭发送方向。服务器读到 EOF,也知道消息结束了;我们还能接着收回复。
        sock.shutdown(socket.SHUT_WR)
    # ANCHOR_END: send

    # ANCHOR: receive
    # 和教程一样,只 recv 一次,把这一次收到的当作整个回复。
    try:
        reply = sock.recv(500)
    except socket.timeout:
        print(f"等了 {opts.timeout:g} 秒,服务器还没有回复", file=sys.stderr)
        sys.exit(1)
    if not reply:
        # recv 返回空的 b'':服务器关闭了连接,一个字节也没有回。
        print("服务器没有回复就关闭了连接(recv 返回了 b'')", file=sys.stderr)
        sys.exit(1)
    text = reply.decode()
    # 回复本身以换行结尾时,就不再多打一个换行。
    print(f"服务器回复: {text}", end="" if text.endswith("\n") else "\n")
    # ANCHOR_END: receive
    sock.close()


if __name__ == "__main__":
    main()
