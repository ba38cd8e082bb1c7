//! issue 12 缺陷 3 的重现:stdout 被关掉了(比如 `solution-01 | head -n 1`),一次性的服务器照常回复。
//! 修好以前,打印收到的数据报时服务器就 panic 了(「failed printing to stdout: Broken pipe」)。

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn a_closed_stdout_never_stops_the_reply() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_solution-01"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("能启动 solution-01");
    // 读完第一行就关掉读的那一头,和 `| head -n 1` 一样(有期限地读,不会挂住)。
    let stdout = server.stdout.take().expect("piped");
    let Some(first) = harness::program::first_line_then_close(stdout, Duration::from_secs(10))
    else {
        let _ = server.kill();
        let _ = server.wait();
        panic!("服务器在 10 秒内没有打印第一行");
    };
    let addr = first.split_whitespace().last().expect("第一行的最后是地址");
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to("你好,世界".as_bytes(), addr).unwrap();
    let mut buf = [0u8; 64];
    let got = client.recv(&mut buf).ok().map(|n| buf[..n].to_vec());
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(got.as_deref(), Some("你好,世界".as_bytes()));
}
