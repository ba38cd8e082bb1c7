//! issue 12 缺陷 3 的重现:stdout 被关掉了(比如 `solution-04 | head -n 1`),服务器照常回复。

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn a_closed_stdout_never_stops_the_replies() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_solution-04"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("能启动 solution-04");
    // 读完第一行就关掉读的那一头,和 `| head -n 1` 一样(有期限地读,不会挂住)。
    let stdout = server.stdout.take().expect("piped");
    let Some(first) = harness::program::first_line_then_close(stdout, Duration::from_secs(10))
    else {
        let _ = server.kill();
        let _ = server.wait();
        panic!("服务器在 10 秒内没有打印第一行");
    };
    let addr = first.split_whitespace().last().expect("第一行的最后是地址");
    let mut replies = Vec::new();
    for text in ["你好,世界", "第二个"] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(format!("{text}\n").as_bytes()).unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        replies.push(reply);
    }
    let _ = server.kill();
    let _ = server.wait();
    for (reply, text) in replies.iter().zip(["你好,世界", "第二个"]) {
        assert!(reply.contains(text), "回复是「{reply}」");
    }
}
