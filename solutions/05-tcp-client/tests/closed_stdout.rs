//! stdout 被关掉了(比如 `solution-05 | true`:没有人读它的输出),客户端照样发出消息、
//! 收下回复,以退出码 0 退出。用 println! 的话,打印回复时 panic,退出码 101。

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// 每一次等待的期限。
const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn a_closed_stdout_never_changes_the_exit_code() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut client = Command::new(env!("CARGO_BIN_EXE_solution-05"))
        .args(["--port", &port, "--message", "你好,世界", "--timeout", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("能启动 solution-05");
    // 一开始就关掉读 stdout 的那一头:客户端之后写 stdout 都会失败。
    drop(client.stdout.take());
    // stderr 读到头,就是客户端退出了:这样等它退出也有期限。
    let mut stderr = client.stderr.take().expect("piped");
    let (exited, exit_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = exited.send(text);
    });

    // 在另一个线程里扮演服务器(accept 没有超时,交给 recv_timeout 管期限):回它一行。
    let (served, served_rx) = mpsc::channel();
    thread::spawn(move || {
        let served_line = listener.accept().and_then(|(stream, _)| {
            stream.set_read_timeout(Some(PATIENCE))?;
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line)?;
            (&stream).write_all("收到\n".as_bytes())?;
            Ok(line)
        });
        let _ = served.send(served_line);
    });
    let message = served_rx.recv_timeout(PATIENCE);
    let stderr = exit_rx.recv_timeout(PATIENCE);
    let _ = client.kill();
    let status = client.wait().expect("能等到退出码");

    assert!(
        matches!(&message, Ok(Ok(line)) if line == "你好,世界\n"),
        "服务器没有收到「你好,世界」这一行: {message:?}"
    );
    let stderr = stderr.unwrap_or_else(|_| panic!("收到回复以后,客户端 {PATIENCE:?} 内没有退出"));
    assert!(
        status.success(),
        "客户端应该以退出码 0 退出;退出码 {status},stderr:\n{stderr}"
    );
}
