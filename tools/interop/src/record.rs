//! 记下一对程序说了什么:运行中的程序([`Running`])、像 nc 一样的一个连接([`Peer`]),
//! 以及结束以后留下的记录([`Shown`])和它的文字形式。

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use harness::grader::deadline;
use harness::program::{Ending, Program, WaitError};
use harness::text::find_socket_addr;

/// 等服务器打印地址最多等这么久(机器很忙时,Python 启动也要一会儿)。
const START: Duration = Duration::from_secs(10);

/// 一个程序(或者一个连接)从头到尾的记录。
#[derive(Clone, Debug)]
pub struct Shown {
    /// 它在这一对里的角色:「服务器(Rust)」「客户端(Python)」「另一个人」。
    pub role: String,
    /// 在终端里怎样手动运行它。
    pub command: String,
    /// 替它在键盘上打的字(每一项一行);`typed_eof` 表示最后还按了 Ctrl-D。
    pub typed: Vec<String>,
    pub typed_eof: bool,
    pub stdout: String,
    pub stderr: String,
    /// 这个连接收到的每一行(只有 [`Peer`] 有)。
    pub received: Vec<String>,
    /// 程序自己退出时的退出码;被结束的、只是一个连接的,是 None。
    pub code: Option<i32>,
    /// 怎么结束的,给人看。
    pub ending: String,
}

impl Shown {
    /// 写成几行文字:角色和命令,然后是键盘、stdout、stderr、收到的行,最后是结局。
    pub fn render(&self) -> String {
        let mut out = format!("{}:{}\n", self.role, self.command);
        let mut typed = self.typed.clone();
        if self.typed_eof {
            typed.push("(Ctrl-D)".to_owned());
        }
        block(&mut out, "键盘", &typed.join("\n"));
        block(&mut out, "stdout", &self.stdout);
        block(&mut out, "stderr", &self.stderr);
        block(&mut out, "收到", &self.received.join("\n"));
        block(&mut out, "结局", &self.ending);
        out
    }
}

/// 一个标签加几行文字;文字是空的就什么也不写。标签占 8 列(一个汉字算 2 列),续行对齐。
fn block(out: &mut String, label: &str, text: &str) {
    let text = text.trim_end_matches('\n');
    if text.is_empty() {
        return;
    }
    let width: usize = label
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    let pad = " ".repeat(8usize.saturating_sub(width));
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(&format!("    {label}{pad}{line}\n"));
        } else {
            out.push_str(&format!("    {}{line}\n", " ".repeat(8)));
        }
    }
}

/// 一个正在运行的程序,带着给人看的角色和命令。
pub(crate) struct Running {
    program: Program,
    role: String,
    command: String,
    typed: Vec<String>,
    typed_eof: bool,
}

impl Running {
    pub(crate) fn new(program: Program, role: &str, command: String) -> Running {
        Running {
            program,
            role: role.to_owned(),
            command,
            typed: Vec::new(),
            typed_eof: false,
        }
    }

    /// 等它打印第一行,从里面读出它绑定的地址(和评分器一样)。
    pub(crate) fn address(&self) -> Result<SocketAddr> {
        let line = self.program.first_line(deadline(START)).map_err(|err| {
            let what = match err {
                WaitError::Timeout => format!("{} 秒内没有打印地址", START.as_secs()),
                WaitError::Closed => "没有打印地址就退出了".to_owned(),
            };
            let stderr = self.program.output().stderr();
            anyhow::anyhow!("{}{what};它的 stderr:\n{}", self.role, stderr.trim_end())
        })?;
        find_socket_addr(&line).with_context(|| format!("{} 的第一行里没有地址:{line}", self.role))
    }

    /// 在它的键盘上打一行字。
    pub(crate) fn type_line(&mut self, line: &str) -> Result<()> {
        self.program
            .type_line(line)
            .with_context(|| format!("没法给{}打字", self.role))?;
        self.typed.push(line.to_owned());
        Ok(())
    }

    /// 按下 Ctrl-D:关闭它的 stdin。
    pub(crate) fn close_stdin(&mut self) {
        self.program.close_stdin();
        self.typed_eof = true;
    }

    /// 等它自己退出,最多等 `limit`;退出了返回 true。
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> bool {
        self.program.wait_exit(deadline(limit)).is_some()
    }

    /// 等它的 stdout 或 stderr 里出现 `text`,最多等 `limit`;出现了返回 true。
    pub(crate) fn wait_output(&self, limit: Duration, text: &str) -> bool {
        self.program
            .wait_output_until(deadline(limit), |all| all.contains(text))
            .is_ok()
    }

    /// 等它自己退出(最多等 `limit`),再结束它,留下记录:客户端就是这样运行的。
    pub(crate) fn run_to_end(mut self, limit: Duration) -> Shown {
        self.wait_exit(limit);
        self.finish()
    }

    /// 结束它(如果它还在运行),留下记录。
    pub(crate) fn finish(mut self) -> Shown {
        self.program.stop();
        let output = self.program.output();
        let (code, ending) = match output.ending() {
            Some(Ending::Exited(status)) => match status.code() {
                Some(code) => (Some(code), format!("自己退出了,退出码 {code}")),
                None => (None, format!("被信号结束:{status}")),
            },
            _ => (None, "一直在运行,演示完被结束".to_owned()),
        };
        Shown {
            role: self.role,
            command: self.command,
            typed: self.typed,
            typed_eof: self.typed_eof,
            stdout: output.stdout(),
            stderr: output.stderr(),
            received: Vec::new(),
            code,
            ending,
        }
    }
}

/// 聊天室里的另一个人:一个普通的 TCP 连接,就像用 `course nc` 连上去一样。它打的字、收到的每一行都记下来。
pub(crate) struct Peer {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
    typed: Vec<String>,
    received: Vec<String>,
    /// 收到了一半、还没有换行的一行。
    partial: Vec<u8>,
}

impl Peer {
    pub(crate) fn connect(addr: SocketAddr) -> Result<Peer> {
        let stream = TcpStream::connect_timeout(&addr, START)
            .with_context(|| format!("连不上聊天室 {addr}"))?;
        let reader = BufReader::new(stream.try_clone().context("无法复制连接")?);
        Ok(Peer {
            stream,
            reader,
            addr,
            typed: Vec::new(),
            received: Vec::new(),
            partial: Vec::new(),
        })
    }

    /// 发一行。
    pub(crate) fn say(&mut self, line: &str) -> Result<()> {
        (&self.stream)
            .write_all(format!("{line}\n").as_bytes())
            .context("另一个人发不出去")?;
        self.typed.push(line.to_owned());
        Ok(())
    }

    /// 一行一行地收,直到收到一行包含 `text` 的,最多等 `limit`;收到了返回 true。
    pub(crate) fn wait_for(&mut self, limit: Duration, text: &str) -> bool {
        let until = deadline(limit);
        loop {
            if self.received.iter().any(|line| line.contains(text)) {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.read_line(Some(left)) {
                return false;
            }
        }
    }

    /// 读一行(最多等 `left`);连接关闭、出错或者到时间了返回 false。
    fn read_line(&mut self, left: Option<Duration>) -> bool {
        if self.stream.set_read_timeout(left).is_err() {
            return false;
        }
        // read_until 出错时,已经读到的字节留在 partial 里,下次接着读。
        match self.reader.read_until(b'\n', &mut self.partial) {
            Ok(0) => false,
            Ok(_) if self.partial.ends_with(b"\n") => {
                let line = String::from_utf8_lossy(&self.partial);
                self.received
                    .push(line.trim_end_matches(['\r', '\n']).to_owned());
                self.partial.clear();
                true
            }
            Ok(_) => false,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => true,
            Err(_) => false,
        }
    }

    /// 已经到了、还没读的东西也收下(不等待),然后断开,留下记录。
    pub(crate) fn finish(mut self) -> Result<Shown> {
        self.stream
            .set_nonblocking(true)
            .context("无法把连接设成非阻塞")?;
        while self.read_line(None) {}
        if !self.partial.is_empty() {
            let rest = String::from_utf8_lossy(&self.partial).into_owned();
            self.received.push(format!("{rest}(后面没有换行)"));
        }
        Ok(Shown {
            role: "另一个人".to_owned(),
            command: format!(
                "cargo run -q -p course -- nc {} {}",
                self.addr.ip(),
                self.addr.port()
            ),
            typed: self.typed,
            typed_eof: false,
            stdout: String::new(),
            stderr: String::new(),
            received: self.received,
            code: None,
            ending: "演示完断开".to_owned(),
        })
    }
}
