"""教程风格的 UDP 服务器:收一个数据报,回一句固定的话。

照着 Python 教程里的两种 UDP 服务器写的(代码是我们自己的,做法和教程一样):
  默认        原教程的案例 01:绑定 7852,recvfrom(500) 收一个数据报,回一句话,然后退出;
  --forever   另一篇教程里的 UDP 服务器:绑定 9000,一直 recvfrom(1024),每个数据报都回一句话。
和课程的回声服务器不同,它回的不是收到的内容,而是一句固定的话。但 UDP 的规矩是一样的:
一个数据报进来,一个数据报回到发送方的地址。

用法:
  python3 tools/interop/udp_server.py [--forever] [--host 地址] [--port 端口]

选项:
  --forever     一直服务下去(另一篇教程的写法),而不是收一个就退出
  --host 地址   绑定哪个地址(默认 127.0.0.1,只在本机)
  --port 端口   绑定哪个端口,0 表示让系统挑一个空闲端口(默认 7852;加了 --forever 是 9000)

另一个终端里:cargo run -p solution-02 -- --port 7852
"""
import socket

import common

# 回给每个客户端的话。教程里回的也是一句写死的话。
REPLY = "我收到了你的消息"


def main():
    common.setup_output()
    opts = common.options(__doc__, forever=False, host="127.0.0.1", port=None)
    if opts.port is None:
        opts.port = 9000 if opts.forever else 7852

    # ANCHOR: bind
    # 第 1 步:建立 UDP 套接字(SOCK_DGRAM),绑定地址。
    family, address = common.resolve(opts.host, opts.port, socket.SOCK_DGRAM)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind(address)
    # 端口写 0 时,系统挑的端口只有 getsockname() 知道:打印出来,客户端才找得到。
    print(f"UDP 服务器已启动,正在监听 {common.show(sock.getsockname())}")
    # ANCHOR_END: bind

    if opts.forever:
        # 另一篇教程:while True,缓冲区 1024 字节。
        while True:
            answer(sock, 1024)
    else:
        # 原教程的案例 01:只收一个,缓冲区 500 字节。
        answer(sock, 500)
        print("回复已发出,服务器退出")


# ANCHOR: answer
def answer(sock, bufsize):
    """第 2、3 步:收一个数据报,打印出来,给发送方回一句话。"""
    # recvfrom 一直等到有数据报来。一次收到的就是一整个数据报;
    # 比 bufsize 长的部分会被丢掉(Linux、macOS 上悄悄地丢,Windows 上报错)。
    data, sender = sock.recvfrom(bufsize)
    # 和教程一样直接 decode():不是合法的 UTF-8 就抛出异常,服务器也就退出了。
    text = data.decode()
    print(f"收到 {common.show(sender)} 发来的 {len(data)} 字节: {text}")
    # 回复发到 recvfrom 告诉我们的那个地址,也就是发送方。
    sock.sendto(REPLY.encode(), sender)
# ANCHOR_END: answer


if __name__ == "__main__":
    main()
