//! 第 6 课的第 15 项:用 `--host ::1` 启动,服务器和客户端在 IPv6 的回环地址上也一样。

use super::*;
use crate::inputs;

pub(super) fn works_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    if !inputs::has_ipv6_loopback() {
        return Err(Failure::skip(inputs::NO_IPV6));
    }
    server_on_ipv6(session)?;
    client::client_on_ipv6(session)
}

/// `server --host ::1`:绑定在 [::1] 上,两个人从 IPv6 连进来,照样聊天。
fn server_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open_with(session, &["--host", "::1"])?;
    if !room.server.addr.is_ipv6() {
        return Err(Failure::new("用 --host ::1 启动,服务器却没有绑定在 ::1 上")
            .ran(format!("{} server --port 0 --host ::1", session.name()))
            .expected("第一行打印 IPv6 的地址,比如「聊天服务器已启动,正在监听 [::1]:2023」")
            .actual(format!("服务器报出的地址是 {}", room.server.addr))
            .hint(
                "绑定 --host 参数给的地址:TcpListener::bind((host.as_str(), port)),不要写死 127.0.0.1。",
            )
            .read("命令行参数"));
    }
    let alice = room.join("alice")?;
    let mut bob = room.join("bob")?;
    let text = "你好,这里是 IPv6";
    room.send(&alice, text)?;
    let expected = said("alice", text);
    let (_, got) = room.expect(
        &mut bob,
        &format!("alice 说的「{text}」"),
        &format!("一行「{expected}」"),
        |line| !line.starts_with("* "),
        "从 IPv6 连进来的人和从 IPv4 连进来的一样:读一行,交给其他所有人。\
         如果别的地址上一切正常,看看代码里有没有只认 IPv4 的地方(比如把地址当成 a.b.c.d:端口 来解析)。",
    )?;
    if got != expected {
        return Err(room.trouble(
            Failure::new("bob 收到的一行和 alice 说的不一样")
                .sent(
                    format!("{text}\n").as_bytes(),
                    "服务器(从 alice 的 IPv6 连接发出)",
                )
                .expected(format!("一行「{expected}」"))
                .actual(format!(
                    "bob 收到「{}」\n{}",
                    show_text(&got),
                    bob.transcript(6)
                ))
                .hint("别人说的话,收到的人那里是「[说话人的昵称] 原话」,从哪类地址连进来都一样。")
                .read("服务器发出的行"),
        ));
    }
    Ok(())
}
