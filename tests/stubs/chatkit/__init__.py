class ConversationMemory:
    """Stands in for a chat library's memory: it keeps every exchange it is given."""

    def __init__(self):
        self.messages = []

    def save_context(self, inputs, outputs):
        self.messages.append((inputs, outputs))

    def history(self):
        return [inputs["input"] for inputs, _ in self.messages]

    def clear(self):
        self.messages = []
