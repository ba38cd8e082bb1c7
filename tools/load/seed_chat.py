"""Python 教程里的聊天室设计,说课程的行协议:用来和参考答案在同一次测量里比较。

设计照搬教程:每个客户端一个线程;一份共享的客户端列表;一句话在说话人自己的线程里,
用 sendall 挨个发给其他人。协议和第 6 课一样(第一行是昵称,`* …` 欢迎,`[昵称] 文字`,
`/list`),所以 `load chat` 能驱动它。它没有第 6 课的任何保护(不读消息的人会卡住所有人):
这正是要比较的东西。

    python3 tools/load/seed_chat.py --port 0
"""
import socket
import sys
import threading

clients = {}  # 连接 -> 昵称
lock = threading.Lock()


def broadcast(line, skip=None):
    data = (line + "\n").encode()
    with lock:
        targets = [c for c in clients if c is not skip]
    for c in targets:
        try:
            c.sendall(data)
        except OSError:
            pass


def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
    try:
        conn.sendall("* 欢迎来到聊天室!请输入你的昵称\n".encode())
        nick = f.readline().strip()
        with lock:
            clients[conn] = nick
            names = ", ".join(clients.values())
        conn.sendall(f"* 你好,{nick}!现在在线 {len(clients)} 人: {names}\n".encode())
        broadcast(f"* {nick} 进入了聊天室", conn)
        for line in f:
            line = line.rstrip("\r\n")
            if line == "/list":
                with lock:
                    names = list(clients.values())
                conn.sendall(f"* 在线 {len(names)} 人: {', '.join(names)}\n".encode())
            elif line:
                broadcast(f"[{nick}] {line}", conn)
    except OSError:
        pass
    finally:
        with lock:
            gone = clients.pop(conn, None)
        conn.close()
        if gone is not None:
            broadcast(f"* {gone} 离开了聊天室")


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 2023
    threading.stack_size(256 * 1024)
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    print(f"聊天服务器已启动,正在监听 {listener.getsockname()[0]}:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
