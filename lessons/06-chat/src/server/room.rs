//! 房间:此刻在线的每个人,和把一行交给收信人的办法。

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::Limits;
use super::outbox::Outbox;

/// 服务器发出的一行(末尾带着换行),大家共享同一份(广播给 100 个人也只存一份文字)。
pub(super) type Line = Arc<str>;

/// 把一行文字变成要发出去的 [`Line`]:加上换行。
pub(super) fn line(text: &str) -> Line {
    Line::from(format!("{text}\n"))
}

// ANCHOR: room
/// 房间:此刻在线的每个人。所有线程共享同一个,改动都在锁里做。
pub(super) struct Room {
    members: Mutex<BTreeMap<u64, Member>>,
    /// 此刻开着的连接数(包括还没报昵称的)。
    seats: AtomicUsize,
    pub(super) limits: Limits,
}

/// 房间里的一个人。
struct Member {
    nick: String,
    /// 这个人的信箱:放进去的每一行,由他的写线程写到他的连接上。
    outbox: Arc<Outbox>,
}

impl Room {
    pub(super) fn new(limits: Limits) -> Room {
        Room {
            members: Mutex::default(),
            seats: AtomicUsize::new(0),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Member>> {
        // 某个线程拿着锁时 panic 了,数据本身还是完整的(我们在锁里只做简单的增删改)。
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 占一个座位;已经有 max_clients 个连接了就返回 None。
    pub(super) fn take_seat(self: &Arc<Self>) -> Option<Seat> {
        let max = self.limits.max_clients;
        self.seats
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Seat(Arc::clone(self)))
    }

    /// 让一个人进入房间:欢迎他,告诉别人。昵称已被占用时返回 Err,他还在门外。
    ///
    /// 欢迎语在锁里、在他进入名单之前放进他的信箱:这样别人的话一定排在欢迎语后面。
    pub(super) fn join(&self, id: u64, nick: &str, outbox: &Arc<Outbox>) -> Result<usize, String> {
        let mut members = self.lock();
        if members.values().any(|m| m.nick == nick) {
            return Err(format!("昵称 {nick} 已经有人用了,换一个吧"));
        }
        let online = members.len() + 1;
        let names: Vec<&str> = members
            .values()
            .map(|m| m.nick.as_str())
            .chain([nick])
            .collect();
        // 拿着房间的锁不能等待,所以不管信箱满没满,直接放进去(只多一行)。
        outbox.push(line(&format!(
            "* 你好,{nick}!现在在线 {online} 人: {}。输入 /help 查看命令",
            names.join(", ")
        )));
        let member = Member {
            nick: nick.to_owned(),
            outbox: Arc::clone(outbox),
        };
        members.insert(id, member);
        Ok(online)
    }

    /// 离开房间。返回他的昵称和剩下的人数;他已经不在了就返回 None。
    pub(super) fn leave(&self, id: u64) -> Option<(String, usize)> {
        let mut members = self.lock();
        let gone = members.remove(&id)?;
        Some((gone.nick, members.len()))
    }

    /// 在线的人的昵称,按进来的先后。
    pub(super) fn names(&self) -> Vec<String> {
        self.lock().values().map(|m| m.nick.clone()).collect()
    }

    /// 改名。新昵称已被占用时返回 Err。成功时返回旧昵称。
    pub(super) fn rename(&self, id: u64, new: &str) -> Result<String, String> {
        let mut members = self.lock();
        if members
            .iter()
            .any(|(&other, m)| other != id && m.nick == new)
        {
            return Err(format!("昵称 {new} 已经有人用了,换一个吧"));
        }
        let member = members.get_mut(&id).ok_or("你已经不在聊天室里了")?;
        Ok(std::mem::replace(&mut member.nick, new.to_owned()))
    }

    /// 找到叫 `nick` 的人的编号。
    pub(super) fn find(&self, nick: &str) -> Option<u64> {
        self.lock()
            .iter()
            .find(|(_, m)| m.nick == nick)
            .map(|(&id, _)| id)
    }

    /// 发给一个人。
    pub(super) fn tell(&self, id: u64, text: &str) {
        self.deliver(|other| other == id, line(text));
    }

    /// 发给除了 `from` 以外的所有人。
    pub(super) fn broadcast(&self, from: u64, text: &str) {
        self.deliver(|other| other != from, line(text));
    }

    /// 把攒好的几行(每行已经带着换行)一起发给除了 `from` 以外的所有人。
    pub(super) fn broadcast_lines(&self, from: u64, lines: String) {
        if lines.is_empty() {
            return;
        }
        self.deliver(|other| other != from, Line::from(lines));
    }
    // ANCHOR_END: room

    // ANCHOR: deliver
    /// 把一行放进每个 `to(编号)` 为真的人的信箱。
    ///
    /// 先在锁里记下收信人的信箱,放开锁,再一个个地放:放信可能要等(信箱满了),
    /// 等的时候不能拿着房间的锁,否则别人连进门、离开、说话都做不了。
    /// 同一个人说的话由他自己的线程按顺序放,所以每个人收到的他的话,顺序都和他说的一样。
    fn deliver(&self, to: impl Fn(u64) -> bool, line: Line) {
        let outboxes: Vec<Arc<Outbox>> = self
            .lock()
            .iter()
            .filter(|(id, _)| to(**id))
            .map(|(_, m)| Arc::clone(&m.outbox))
            .collect();
        let post_all = |outboxes: &[Arc<Outbox>]| {
            for outbox in outboxes {
                outbox.post(&line, self.limits.write_timeout);
            }
        };
        // 大房间:一句话要写给上千个人,一个线程挨个写,排在最后的人要等上千次写。
        // 分成两半,另一半交给一个临时的线程同时写:有空闲的核,最后一个人就早一半收到。
        // 开不了线程(系统的线程数到了上限)就自己全写,慢一点,但一个也不少。
        if outboxes.len() < SPLIT_FANOUT {
            post_all(&outboxes);
            return;
        }
        let (mine, theirs) = outboxes.split_at(outboxes.len() / 2);
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .stack_size(FANOUT_STACK)
                .spawn_scoped(scope, || post_all(theirs));
            post_all(mine);
            if helper.is_err() {
                post_all(theirs);
            }
        });
    }
}
// ANCHOR_END: deliver

/// 收信人至少这么多时,一句话分给两个线程同时写(见 [`Room::deliver`])。
const SPLIT_FANOUT: usize = 256;

/// 帮忙写的临时线程只调用 `post`,用不了多少栈。
const FANOUT_STACK: usize = 64 * 1024;

/// 一个连接占着的座位(见 [`Room::take_seat`]):连接的线程拿着它,线程结束时座位空出来。
pub(super) struct Seat(Arc<Room>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.seats.fetch_sub(1, Ordering::SeqCst);
    }
}
