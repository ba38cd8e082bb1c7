//! 互通实验:教程风格的 Python 程序和课程的 Rust 程序,一对一对地互相对话。
//!
//! 学员大多是从 Python 教程过来的。`tools/interop/` 里的 Python 程序照教程的做法写成
//! (recv 一次就当作一整条消息、消息后面没有换行、聊天室收到什么就转发什么),这个库把它们
//! 和每一课的 Rust 程序配成对,真的运行一遍,记下双方说了什么,判断是「通」「不通」还是「走样」。
//! 每一对还有一两个改动过的版本(一个开关),演示「最小的改动」确实让它们说上了话。
//!
//! - `course interop [课号]` 用它演示给学员看;
//! - `tests/pairs.rs` 用它确认每一对的结果都和课本(附录「Python socket → Rust std::net」的
//!   「互通实验」一节)说的一样,课本里展示的记录(`book/src/examples/interop/`)也由它核对。
//!
//! 和评分器一样:服务器用 `--port 0` 启动,读回它打印的地址;每一次等待都有期限,
//! 不用 sleep 做同步;程序在任何情况下都会被结束。

mod chat;
mod python;
mod record;
mod tcp;
mod udp;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use harness::program::Program;

pub use python::Python;
pub use record::Shown;

use record::Running;

/// 客户端发的话:非 ASCII 的,字节和字符对不上时一眼就能看出来。
const MESSAGE: &str = "你好,世界";

/// 一对程序说上话了没有。
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 说上了,意思也对。
    Works,
    /// 说上了,但意思变了(少了一截、多了东西、命令成了普通的话)。
    Degrades,
    /// 没说上。
    Fails,
}

impl Outcome {
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Works => "通",
            Outcome::Degrades => "走样",
            Outcome::Fails => "不通",
        }
    }
}

/// 互通实验里的一对程序(或者它的一个改动过的版本)。
pub struct Case {
    /// 名字,也是课本里那份记录的文件名:`04-newline`。
    pub id: &'static str,
    /// 和哪一课的 Rust 程序配对:`04`。
    pub lesson: &'static str,
    /// 谁和谁说话。
    pub pair: &'static str,
    /// 和教程的写法比,改了什么(「原样」就是没改)。
    pub change: &'static str,
    /// 课本说的结果。
    pub expected: Outcome,
    /// 为什么是这个结果,一两句话(细节在课本里)。
    pub why: &'static str,
    /// 给 Python 程序加的开关(改动过的版本才有)。
    flags: &'static [&'static str],
    run: fn(&Lab, &[&str]) -> Result<Trial>,
}

impl Case {
    /// 真的运行这一对,记下发生了什么。
    pub fn run(&self, lab: &Lab) -> Result<Trial> {
        (self.run)(lab, self.flags)
    }
}

/// 所有的对,按课号排好。
pub const CASES: &[Case] = &[
    Case {
        id: "01-as-is",
        lesson: "01",
        pair: "教程风格的 UDP 客户端 → 第 1 课的服务器",
        change: "原样",
        expected: Outcome::Works,
        why: "一个数据报进、一个数据报出,回到发送方的地址:两边对 UDP 的理解一样。",
        flags: &[],
        run: udp::client_to_01,
    },
    Case {
        id: "02-once",
        lesson: "02",
        pair: "第 2 课的客户端 → 教程风格的 UDP 服务器(收一个就退出,端口 7852)",
        change: "原样",
        expected: Outcome::Works,
        why: "服务器回的是一句固定的话,不是回声;客户端只管打印收到的数据报,照样说得上话。",
        flags: &[],
        run: udp::solution02_to,
    },
    Case {
        id: "02-forever",
        lesson: "02",
        pair: "第 2 课的客户端 → 教程风格的 UDP 服务器(一直服务,端口 9000)",
        change: "原样(--forever)",
        expected: Outcome::Works,
        why: "和上一对一样,只是服务器不退出。",
        flags: &["--forever"],
        run: udp::solution02_to,
    },
    Case {
        id: "03-as-is",
        lesson: "03",
        pair: "教程风格的 UDP 客户端(运行两次)→ 第 3 课的服务器",
        change: "原样",
        expected: Outcome::Works,
        why: "回声服务器不退出,每个数据报都回给它自己的发送方。",
        flags: &[],
        run: udp::client_to_03,
    },
    Case {
        id: "04-as-is",
        lesson: "04",
        pair: "教程风格的 TCP 客户端 → 第 4 课的服务器",
        change: "原样",
        expected: Outcome::Fails,
        why: "客户端发完一句话就等回复,后面没有换行,也不关闭发送方向;服务器要读到换行或 EOF \
              才算收到一条消息。两边都在等对方,直到服务器的期限(这里用 --timeout 1)到了。",
        flags: &[],
        run: tcp::client_to_04,
    },
    Case {
        id: "04-newline",
        lesson: "04",
        pair: "教程风格的 TCP 客户端 → 第 4 课的服务器",
        change: "客户端加 --newline:消息后面加一个换行",
        expected: Outcome::Works,
        why: "换行告诉服务器「这条消息到这里为止」。",
        flags: &["--newline"],
        run: tcp::client_to_04,
    },
    Case {
        id: "04-shutdown",
        lesson: "04",
        pair: "教程风格的 TCP 客户端 → 第 4 课的服务器",
        change: "客户端加 --shutdown:发完以后关闭发送方向",
        expected: Outcome::Works,
        why: "关闭发送方向,服务器读到 EOF,也知道消息说完了;客户端还能接着收回复。",
        flags: &["--shutdown"],
        run: tcp::client_to_04,
    },
    Case {
        id: "05-as-is",
        lesson: "05",
        pair: "第 5 课的客户端 → 教程风格的 TCP 服务器",
        change: "原样",
        expected: Outcome::Degrades,
        why: "服务器把收到的整段字节(连同客户端的换行)拼进回复,换行就落在了回复中间;\
              客户端读到第一个换行就认为回复结束了,后半截「from (…)」丢了。",
        flags: &[],
        run: tcp::solution05_to,
    },
    Case {
        id: "05-newline",
        lesson: "05",
        pair: "第 5 课的客户端 → 教程风格的 TCP 服务器",
        change: "服务器加 --newline:去掉消息末尾的换行,回复以换行结尾",
        expected: Outcome::Works,
        why: "换行只出现在一条消息的末尾,两边对「一条消息在哪里结束」的理解一样了。",
        flags: &["--newline"],
        run: tcp::solution05_to,
    },
    Case {
        id: "06-as-is",
        lesson: "06",
        pair: "第 6 课的客户端 → 教程风格的聊天室服务器(只转发)",
        change: "原样",
        expected: Outcome::Fails,
        why: "第 6 课的客户端连上以后,先等服务器的第一句话(最多 10 秒);只转发的服务器一句话也不说,\
              客户端就当它不是聊天室,不进门。",
        flags: &[],
        run: chat::client_to_seed_chat,
    },
    Case {
        id: "06-greet",
        lesson: "06",
        pair: "第 6 课的客户端 → 教程风格的聊天室服务器(只转发)",
        change: "服务器加 --greet:连上就先说一句欢迎",
        expected: Outcome::Degrades,
        why: "进得了门,可服务器不懂第 6 课的协议:昵称和 /list 都被当成普通的话转发给了别人,\
              别人也看不出一句话是谁说的。",
        flags: &["--greet"],
        run: chat::client_to_seed_chat,
    },
    Case {
        id: "06-nick",
        lesson: "06",
        pair: "第 6 课的客户端 → 教程风格的聊天室服务器",
        change: "服务器加 --nick:说第 6 课的行协议(第一行是昵称,转发时带上名字,回答 /list)",
        expected: Outcome::Works,
        why: "两边说同一种协议了。",
        flags: &["--nick"],
        run: chat::client_to_seed_chat,
    },
];

/// 按名字找一对。
pub fn case(id: &str) -> Option<&'static Case> {
    CASES.iter().find(|case| case.id == id)
}

/// 运行一对的结果:谁说了什么,结论是什么,凭什么。
pub struct Trial {
    pub outcome: Outcome,
    /// 得出结论的依据,一句话。
    pub evidence: String,
    /// 按启动的先后排好的每一个程序(和连接)。
    pub programs: Vec<Shown>,
}

impl Trial {
    /// 写成文字:每个程序的记录,最后一行是结论。
    pub fn render(&self) -> String {
        let mut out = String::new();
        for shown in &self.programs {
            out.push_str(&shown.render());
        }
        out.push_str(&format!(
            "结果:{}。{}\n",
            self.outcome.describe(),
            self.evidence
        ));
        out
    }

    /// 角色以 `role` 开头的那个程序(测试用):`trial.program("客户端")`。
    pub fn program(&self, role: &str) -> &Shown {
        self.programs
            .iter()
            .find(|shown| shown.role.starts_with(role))
            .unwrap_or_else(|| panic!("这一对里没有「{role}」"))
    }
}

/// 一课的 Rust 程序:编译好的路径和包名。
struct RustProgram {
    path: PathBuf,
    package: String,
}

/// 实验台:Python 程序在哪里、用哪个 Python 运行、每一课的 Rust 程序在哪里。
pub struct Lab {
    scripts: PathBuf,
    python: Python,
    programs: BTreeMap<String, RustProgram>,
}

impl Lab {
    /// `root` 是课程仓库的根目录(Python 程序在它的 `tools/interop/` 里)。
    pub fn new(root: &Path, python: Python) -> Lab {
        Lab {
            scripts: root.join("tools").join("interop"),
            python,
            programs: BTreeMap::new(),
        }
    }

    /// 第 `lesson` 课用哪个 Rust 程序(参考答案 `solution-NN`,或者学员自己的 `lesson-NN`)。
    pub fn add_program(&mut self, lesson: &str, path: PathBuf, package: &str) {
        self.programs.insert(
            lesson.to_owned(),
            RustProgram {
                path,
                package: package.to_owned(),
            },
        );
    }

    /// 启动第 `lesson` 课的 Rust 程序。`interactive` 时可以替它打字。
    fn rust(&self, lesson: &str, role: &str, args: &[&str], interactive: bool) -> Result<Running> {
        let program = self
            .programs
            .get(lesson)
            .with_context(|| format!("实验台上没有第 {lesson} 课的程序"))?;
        let spawned = if interactive {
            Program::spawn_interactive(&program.path, args)
        } else {
            Program::spawn(&program.path, args)
        }
        .with_context(|| format!("无法启动 {}", program.path.display()))?;
        let command = format!("cargo run -q -p {} -- {}", program.package, args.join(" "));
        Ok(Running::new(spawned, &format!("{role}(Rust)"), command))
    }

    /// 启动第 `lesson` 课的服务器(`--port 0` 再加上 `args`),读回它绑定的地址。
    fn rust_server(&self, lesson: &str, args: &[&str]) -> Result<(Running, SocketAddr)> {
        let mut full = vec!["--port", "0"];
        full.extend_from_slice(args);
        let server = self.rust(lesson, "服务器", &full, false)?;
        let addr = server.address()?;
        Ok((server, addr))
    }

    /// 启动一个 Python 服务器(`flags` 再加上 `--port 0`),读回它绑定的地址。
    fn python_server(&self, script: &str, flags: &[&str]) -> Result<(Running, SocketAddr)> {
        let mut full = flags.to_vec();
        full.extend(["--port", "0"]);
        let server = self.python(script, "服务器", &full)?;
        let addr = server.address()?;
        Ok((server, addr))
    }

    /// 启动 `tools/interop/` 里的一个 Python 程序。
    fn python(&self, script: &str, role: &str, args: &[&str]) -> Result<Running> {
        let path = self.scripts.join(script);
        let path_text = path.to_string_lossy();
        let mut full = vec![path_text.as_ref()];
        full.extend_from_slice(args);
        let (program, full) = self.python.command(&full);
        let spawned = Program::spawn(program, &full)
            .with_context(|| format!("无法用 {} 启动 {script}", self.python.shown()))?;
        let mut command = format!("{} tools/interop/{script}", self.python.shown());
        for arg in args {
            command.push(' ');
            command.push_str(arg);
        }
        Ok(Running::new(spawned, &format!("{role}(Python)"), command))
    }
}

impl Lab {
    /// 把一份记录里每次都不一样的东西换成固定的,好和课本里的那份比较:
    /// 端口号(5 位数)按出现的先后换成 40001、40002……(和 `.ci/examples` 一样);
    /// 运行 Python 的命令写成 `python3`。
    pub fn normalize(&self, text: &str) -> String {
        let ours = format!("{} tools/interop/", self.python.shown());
        renumber_ports(&text.replace(&ours, "python3 tools/interop/"))
    }
}

/// 端口号(紧跟在地址或 `--port` 后面的 5 位数)按出现的先后换成 40001、40002……
fn renumber_ports(text: &str) -> String {
    let mut ports: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in ["127.0.0.1:", "]:", "--port ", "127.0.0.1 ", "'127.0.0.1', "] {
            let Some(after) = rest.strip_prefix(prefix) else {
                continue;
            };
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits != 5 {
                continue;
            }
            let port = &after[..digits];
            let index = match ports.iter().position(|p| p == port) {
                Some(index) => index,
                None => {
                    ports.push(port.to_owned());
                    ports.len() - 1
                }
            };
            out.push_str(prefix);
            out.push_str(&(40001 + index).to_string());
            rest = &after[digits..];
            continue 'scan;
        }
        let c = rest.chars().next().expect("rest 不是空的");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renumber_ports;

    /// 同一个端口换成同一个数,不同的端口按出现的先后编号;`--port 0` 和别的数字不动。
    #[test]
    fn ports_are_renumbered_in_order_of_appearance() {
        let text = "监听 127.0.0.1:53124\n--port 53124 --port 0\nfrom ('127.0.0.1', 41000)\n\
                    nc 127.0.0.1 53124 [::1]:61234 退出码 12345";
        assert_eq!(
            renumber_ports(text),
            "监听 127.0.0.1:40001\n--port 40001 --port 0\nfrom ('127.0.0.1', 40002)\n\
             nc 127.0.0.1 40001 [::1]:40003 退出码 12345"
        );
    }
}
