//! 客户端的 stdout 被关掉了(比如 `solution-06 client | head -n 1`),它照常收发、照常重连,
//! 按 Ctrl-D 以退出码 0 退出。用 println! 的话,收消息的线程第一次打印就 panic:
//! 之后服务器断开,再也没人重连。(服务器的 stdout 被关掉的情况在 robustness.rs。)
//!
//! 评分器扮演服务器:这里只有一个监听的套接字,每一次等待都有期限(PATIENCE)。

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const PROGRAM: &str = env!("CARGO_BIN_EXE_solution-06");
/// 每一次等待的期限:远远长于客户端的重连间隔(250、500 毫秒)。
const PATIENCE: Duration = Duration::from_secs(10);

/// 一个运行中的客户端:被 drop 时一定结束。
struct Client {
    child: Child,
    /// 收集 stderr 的线程读到头(客户端退出了)时,把读到的全部送过来。
    stderr: mpsc::Receiver<String>,
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Client {
    fn start(port: u16) -> (Client, ChildStdout) {
        let mut child = Command::new(PROGRAM)
            .args(["client", "--port", &port.to_string(), "--nick", "小红"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("能启动 solution-06");
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        let client = Client { child, stderr: rx };
        (client, stdout)
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin 还开着");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("客户端还在读键盘");
    }

    /// 按下 Ctrl-D,等它自己退出(最多 PATIENCE)。stderr 读到头,就是它退出了。
    fn ctrl_d(mut self) -> (ExitStatus, String) {
        drop(self.child.stdin.take());
        let Ok(stderr) = self.stderr.recv_timeout(PATIENCE) else {
            panic!("按下 Ctrl-D 以后,客户端 {PATIENCE:?} 内没有退出");
        };
        let status = self.child.wait().expect("能等到退出码");
        (status, stderr)
    }
}

/// 读完 stdout 的第一行就关掉读的那一头,和 `| head -n 1` 一样(返回时管道一定已经关了)。
fn first_line_then_close(stdout: ChildStdout) -> String {
    harness::program::first_line_then_close(stdout, PATIENCE)
        .unwrap_or_else(|| panic!("客户端 {PATIENCE:?} 内没有打印第一行"))
}

/// 评分器扮演的服务器这一头的一个连接。
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// 等客户端连上来(最多 PATIENCE),欢迎它,读它报的昵称。
    fn accept(listener: &TcpListener) -> Conn {
        let waiting = listener.try_clone().expect("能复制监听的套接字");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(waiting.accept());
        });
        let Ok(Ok((stream, _))) = rx.recv_timeout(PATIENCE) else {
            panic!("客户端 {PATIENCE:?} 内没有连上来(收消息的线程还活着吗?)");
        };
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let mut conn = Conn { stream, reader };
        conn.send("* 欢迎来到聊天室!请输入你的昵称");
        assert_eq!(conn.line(), "小红", "报的昵称");
        conn
    }

    fn send(&mut self, line: &str) {
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .expect("客户端还连着");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("在期限内读到客户端发来的一行");
        line.trim_end().to_owned()
    }
}

/// issue 12 缺陷 3 用在客户端上:stdout 没人读了,收消息的线程照常收、照常重连,
/// 打的字照常发出去,Ctrl-D 以退出码 0 退出,没有 panic。
#[test]
fn a_closed_stdout_never_stops_the_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (mut client, stdout) = Client::start(port);

    let mut first = Conn::accept(&listener);
    let shown = first_line_then_close(stdout);
    assert!(shown.starts_with("* 已连上"), "第一行: {shown:?}");
    // stdout 已经关了:收消息的线程要打印这一句和「断开了」,然后重连。
    first.send("[小明] 你好,世界");
    drop(first);
    // 再断一次:这一回,重连以后的「已重新连上」也一定是在 stdout 关掉之后打印的。
    let mut second = Conn::accept(&listener);
    second.send("[小明] 还在吗?");
    drop(second);

    let mut third = Conn::accept(&listener);
    client.type_line("在,你好");
    assert_eq!(third.line(), "在,你好", "打的一行照常发出去");
    let (status, stderr) = client.ctrl_d();
    assert!(
        status.success() && !stderr.contains("panicked"),
        "客户端应该以退出码 0 退出,没有 panic;退出码 {status},stderr:\n{stderr}"
    );
}
