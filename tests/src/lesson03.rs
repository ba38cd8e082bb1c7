//! 第 3 课的评分器:永不停歇的 UDP 回声服务器。
//!
//! 规格(与 book/src/03-udp-loop.md 一致):
//! - 和第 1 课一样绑定地址,第一行 stdout 打印实际地址;
//! - 永远循环:每个数据报(0 到 65507 字节)都原样发回给「它自己的」发送方;
//! - 每个数据报在 stdout 打印一行,含发送方地址;
//! - 空数据报、坏的 UTF-8 都不会让服务器停下。

use std::time::Duration;

use crate::failure::Failure;
use crate::grader::{Lesson, REPLY, Server, Session, Step, deadline, describe_exit};
use crate::lesson01::{self, large_payload};
use crate::text::show_bytes;
use crate::udp::{UdpPeer, expect_echo, expect_reply};

pub const LESSON: Lesson = Lesson {
    number: "03",
    title: "永不停歇的 UDP 服务器",
    chapter: "book/src/03-udp-loop.md",
    server_keeps_running: true,
    steps: &[
        Step {
            name: "启动后在第一行打印实际绑定的地址",
            points: 1,
            check: lesson01::prints_its_address,
        },
        Step {
            name: "把一个数据报原样发回给发送方",
            points: 1,
            check: lesson01::echoes_one_datagram,
        },
        Step {
            name: "一个接一个地回复,每个数据报打印一行,服务器不退出",
            points: 2,
            check: keeps_serving,
        },
        Step {
            name: "两个客户端交错发送,各自收到自己的回复",
            points: 2,
            check: replies_to_each_sender,
        },
        Step {
            name: "保持数据报的边界:连发的两个分别回复,8000 字节的不截断",
            points: 2,
            check: keeps_datagram_boundaries,
        },
        Step {
            name: "空数据报和坏的 UTF-8 不会让服务器停下",
            points: 2,
            check: survives_empty_and_invalid_datagrams,
        },
    ],
};

fn reproduce(name: &str) -> String {
    format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: nc -u 127.0.0.1 7852      (每输入一行回车,都应该被原样发回)\n\
         终端 3: nc -u 127.0.0.1 7852      (再开一个客户端,两边交替输入)"
    )
}

/// 服务器应该还在运行;如果它已经退出了,说明它不是一个循环。
fn expect_still_running(server: &mut Server, name: &str) -> Result<(), Failure> {
    match server.program.exited() {
        None => Ok(()),
        Some(status) => Err(Failure::new("服务器回复以后就退出了")
            .expected("服务器永远循环,回复完一个数据报就去等下一个")
            .actual(describe_exit(Some(status)))
            .hint("把「接收、打印、回复」放进 loop {} 里。一个数据报出错时记日志并 continue,不要 return。")
            .reproduce(reproduce(name))),
    }
}

fn keeps_serving(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    for n in 1..=3 {
        let message = format!("第 {n} 条消息");
        if let Err(failure) = expect_echo(
            &mut server,
            &peer,
            message.as_bytes(),
            &reproduce(session.name()),
        ) {
            // 前面的消息都有回复,这一条却没有:最常见的原因是服务器回复一次就退出了。
            if n > 1 {
                expect_still_running(&mut server, session.name())?;
            }
            return Err(failure);
        }
    }
    expect_still_running(&mut server, session.name())?;

    // 三个数据报,stdout 里应该有三行提到这个客户端的地址(第一行是启动信息)。
    let sender = peer.addr().to_string();
    let three_lines = |stdout: &str| stdout.lines().filter(|l| l.contains(&sender)).count() >= 3;
    if server
        .program
        .wait_stdout_until(deadline(REPLY), three_lines)
        .is_ok()
    {
        return Ok(());
    }
    Err(Failure::new("stdout 里没有为每个数据报打印一行")
        .sent("第 1/2/3 条消息".as_bytes(), server.addr)
        .expected(format!("三行输出,每行都含发送方地址 {sender}"))
        .actual("见下面服务器的 stdout")
        .hint("每收到一个数据报,用一个 println! 打印发送方地址和内容。内容里的换行要转义(escape_debug),才能保证一个数据报一行。")
        .reproduce(reproduce(session.name())))
}

fn replies_to_each_sender(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let (a, b) = (UdpPeer::bind(), UdpPeer::bind());
    let (from_a, from_b) = ("我是客户端 A".as_bytes(), "我是客户端 B".as_bytes());
    // 先让两个客户端都发出去,再去收:服务器必须按每个数据报自己的来源地址回复。
    a.send_to(from_a, server.addr);
    b.send_to(from_b, server.addr);
    let reproduce = reproduce(session.name());
    expect_reply(&mut server, &a, from_a, &reproduce)?;
    expect_reply(&mut server, &b, from_b, &reproduce).map_err(|failure| {
        // B 没收到回复时,看看它是不是被错发给了 A。那份数据报早已到了,不需要久等。
        match a.recv(std::time::Instant::now() + Duration::from_millis(200)) {
            Some(stray) => failure
                .headline("客户端 B 的回复被发给了客户端 A")
                .actual(format!(
                    "客户端 A({})又收到了 {}",
                    a.addr(),
                    show_bytes(&stray.data)
                ))
                .hint(
                    "每个数据报都要回给它自己的发送方:用这一次 recv_from 返回的地址,\
                     不要把第一个客户端的地址存起来反复使用。",
                ),
            None => failure,
        }
    })?;
    expect_still_running(&mut server, session.name())
}

fn keeps_datagram_boundaries(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = reproduce(session.name());
    // 两个数据报紧挨着发出;UDP 保留边界,所以应该收到两个独立的回复,而不是一个「第一个第二个」。
    peer.send_to("第一个".as_bytes(), server.addr);
    peer.send_to("第二个".as_bytes(), server.addr);
    expect_reply(&mut server, &peer, "第一个".as_bytes(), &reproduce)?;
    expect_reply(&mut server, &peer, "第二个".as_bytes(), &reproduce)?;
    expect_echo(&mut server, &peer, &large_payload(8000), &reproduce)
}

fn survives_empty_and_invalid_datagrams(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.sendto(b'', ('127.0.0.1', 7852)); print(s.recvfrom(100))\"      (空数据报)\n\
         终端 2: printf '\\377\\376' | nc -u -w1 127.0.0.1 7852      (坏的 UTF-8)",
        session.name()
    );
    expect_echo(&mut server, &peer, b"", &reproduce).map_err(|f| f.read("空数据报不是 EOF"))?;
    expect_echo(&mut server, &peer, b"\xff\xfe\xfd", &reproduce)?;
    expect_echo(&mut server, &peer, "还在吗?".as_bytes(), &reproduce)?;
    expect_still_running(&mut server, session.name())
}
