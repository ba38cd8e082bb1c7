//! stdout 被关掉了(比如 `solution-02 | head -n 1`:head 读完「已向…发送」那一行就走了),
//! 客户端照样收下回复,以退出码 0 退出。用 println! 的话,打印回复时 panic,退出码 101。

use std::io::Read;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// 每一次等待的期限。
const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn a_closed_stdout_never_changes_the_exit_code() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let mut client = Command::new(env!("CARGO_BIN_EXE_solution-02"))
        .args(["--port", &port, "--message", "你好,世界", "--timeout", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("能启动 solution-02");
    // stderr 读到头,就是客户端退出了:这样等它退出也有期限。
    let mut stderr = client.stderr.take().expect("piped");
    let (exited, exit_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = exited.send(text);
    });
    // 读完第一行就关掉读的那一头(和 `| head -n 1` 一样):回复到的时候,stdout 一定已经关了。
    let stdout = client.stdout.take().expect("piped");
    let first = harness::program::first_line_then_close(stdout, PATIENCE);

    let mut buf = [0u8; 64];
    let got = server.recv_from(&mut buf);
    if let Ok((n, from)) = got {
        let _ = server.send_to(&buf[..n], from);
    }
    let stderr = exit_rx.recv_timeout(PATIENCE);
    let _ = client.kill();
    let status = client.wait().expect("能等到退出码");

    assert!(first.is_some(), "客户端 {PATIENCE:?} 内没有打印第一行");
    assert!(got.is_ok(), "没有收到客户端的数据报");
    let stderr = stderr.unwrap_or_else(|_| panic!("收到回复以后,客户端 {PATIENCE:?} 内没有退出"));
    assert!(
        status.success(),
        "客户端应该以退出码 0 退出;退出码 {status},stderr:\n{stderr}"
    );
}
