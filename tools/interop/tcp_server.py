"""教程风格的 TCP 服务器:每个连接 recv 一次,回一句「Received msg: … from …」,然后关闭连接。

照着原教程的案例 04 写的(代码是我们自己的):accept,recv(500) 一次,把收到的文字
和对方的地址拼成回复,send,关闭,再去 accept 下一个。回复的格式和教程的一样。

用法:
  python3 tools/interop/tcp_server.py [--newline] [--host 地址] [--port 端口]

选项:
  --newline     把消息当作一行:去掉末尾的换行再拼回复,回复也以换行结尾(课程的协议)
  --host 地址   绑定哪个地址(默认 127.0.0.1,只在本机)
  --port 端口   绑定哪个端口,0 表示让系统挑一个空闲端口(默认 8998)

另一个终端里:cargo run -p solution-05 -- --port 8998
"""
import socket

import common


def main():
    common.setup_output()
    opts = common.options(__doc__, newline=False, host="127.0.0.1", port=8998)

    # 第 1 到 3 步:建立 TCP 套接字(SOCK_STREAM),绑定,开始监听。
    family, address = common.resolve(opts.host, opts.port, socket.SOCK_STREAM)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen()
    print(f"TCP 服务器已启动,正在监听 {common.show(listener.getsockname())}")

    while True:
        # 第 4 步:等一个客户端连上来。conn 是和它通话用的新套接字。
        conn, peer = listener.accept()
        serve(conn, peer, opts.newline)


# ANCHOR: serve
def serve(conn, peer, newline):
    """第 5 到 7 步:收一次,回一句,关闭。"""
    # 一次 recv 收到多少就算多少:TCP 是字节流,这未必是对方的一整句话。
    # 和教程一样没有超时,也不捕获异常:一个不说话的客户端会让服务器一直等在这里。
    msg = conn.recv(500).decode()
    if newline:
        # 改法:去掉消息末尾的换行,回复以换行结尾。
        msg = msg.rstrip("\r\n")
    # 教程的回复格式。peer 是一个元组,打印出来是 ('127.0.0.1', 54321) 这样。
    reply = "Received msg: {} from {}".format(msg, peer)
    print(reply)
    if newline:
        reply += "\n"
    conn.sendall(reply.encode())
    conn.close()
# ANCHOR_END: serve


if __name__ == "__main__":
    main()
