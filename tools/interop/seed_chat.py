"""教程风格的聊天室服务器:每个客户端一个线程,收到什么就原样转发给其他所有人。

照着原教程「拓展应用:构建简易聊天系统」写的(代码是我们自己的):服务器维护一份连接列表,
把收到的消息广播给其他客户端,每个客户端一个线程。它只转发字节:不认昵称、不懂命令,
也不管一行在哪里结束(recv(1024) 收到多少,就原样转发多少)。

两个开关,是让第 6 课的客户端和它说上话的两步改动:
  --greet   连上就先说一句欢迎。第 6 课的客户端要等服务器的第一句话,等不到就不进门。
  --nick    说第 6 课的行协议(教程在「功能扩展」里提到的昵称和消息格式):先欢迎;
            客户端的第一行是昵称;转发时在前面加上「[昵称] 」;回答 /list;有人进出时通知大家。
            负载工具 `load chat --compare` 测的就是这种写法。

它没有第 6 课的任何保护:一个不读消息的人会让说话的人卡在 sendall 里。
这正是课本「我们的服务器能撑住多少人?」一章要比较的东西。

用法:
  python3 tools/interop/seed_chat.py [--greet | --nick] [--host 地址] [--port 端口]

选项:
  --greet       连上就先说一句欢迎,其余照旧只转发
  --nick        说第 6 课的行协议(包括 --greet)
  --host 地址   绑定哪个地址(默认 127.0.0.1,只在本机)
  --port 端口   绑定哪个端口,0 表示让系统挑一个空闲端口(默认 2023)

另一个终端里:cargo run -p solution-06 -- client --nick 小明
"""
import socket
import threading

import common

clients = {}  # 连接 -> 昵称(只转发时没有昵称,是 None)
lock = threading.Lock()


def main():
    common.setup_output()
    opts = common.options(__doc__, greet=False, nick=False, host="127.0.0.1", port=2023)
    # 负载工具会同时连上几千人:每个线程的栈小一点,排队等 accept 的队列长一点。
    threading.stack_size(256 * 1024)
    family, address = common.resolve(opts.host, opts.port, socket.SOCK_STREAM)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(4096)
    print(f"聊天服务器已启动,正在监听 {common.show(listener.getsockname())}")

    while True:
        conn, _ = listener.accept()
        # 一句话一个包,马上发出去:不然小包会被攒着,广播的延迟要多出几十毫秒。
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts.nick:
            serve = speak_protocol
        else:
            # 只转发时,一连上就进名单。进名单在这个线程里做,所以先连上的人一定先在名单里。
            with lock:
                clients[conn] = None
            serve = relay_with_greeting if opts.greet else relay
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def send_to_others(data, sender):
    """把 data 发给除了 sender 以外的每一个人。在说话人自己的线程里发,和教程一样。"""
    with lock:
        others = [c for c in clients if c is not sender]
    for conn in others:
        try:
            conn.sendall(data)
        except OSError:
            pass  # 这个人的连接坏了;他自己的线程会发现,并把他移出名单。


def leave(conn):
    """把 conn 移出名单并关闭它;返回它的昵称(没有昵称是 None)。"""
    with lock:
        nick = clients.pop(conn, None)
    conn.close()
    return nick


def relay_with_greeting(conn):
    # 改动一:连上就先说一句话。只要是一整行就行。
    try:
        conn.sendall("欢迎来到聊天室\n".encode())
    except OSError:
        leave(conn)
        return
    relay(conn)


# ANCHOR: relay
def relay(conn):
    """教程的设计:收到什么,就原样转发给其他人,直到对方断开。"""
    try:
        while True:
            # 收到多少算多少:可能是半行,也可能是好几行,原样转发。
            data = conn.recv(1024)
            if not data:
                break  # 对方关闭了连接
            send_to_others(data, conn)
    except OSError:
        pass
    finally:
        leave(conn)
# ANCHOR_END: relay


# ANCHOR: protocol
def speak_protocol(conn):
    """改动二:第 6 课的行协议。一行一条消息,第一行是昵称。"""
    lines = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
    nick = None
    try:
        conn.sendall("* 欢迎来到聊天室!请输入你的昵称\n".encode())
        nick = lines.readline().strip()
        with lock:
            clients[conn] = nick
            names = ", ".join(clients.values())
            count = len(clients)
        conn.sendall(f"* 你好,{nick}!现在在线 {count} 人: {names}\n".encode())
        send_to_others(f"* {nick} 进入了聊天室\n".encode(), conn)
        for line in lines:
            line = line.rstrip("\r\n")
            if line == "/list":
                with lock:
                    names = list(clients.values())
                conn.sendall(f"* 在线 {len(names)} 人: {', '.join(names)}\n".encode())
            elif line:
                send_to_others(f"[{nick}] {line}\n".encode(), conn)
    except OSError:
        pass
    finally:
        if leave(conn) is not None:
            send_to_others(f"* {nick} 离开了聊天室\n".encode(), None)
# ANCHOR_END: protocol


if __name__ == "__main__":
    main()
